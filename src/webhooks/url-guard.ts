// Where the service may send a webhook: refused are other schemes, credentials in the URL, and
// every address of this machine, of private networks, link-local (cloud metadata) and special
// ranges, checked on the URL's literal address or on every address its name resolves to.
// Plain functions with no GraphQL or Prisma, so they are unit-tested on their own.
import { BlockList, isIP } from 'node:net';
import dns from 'node:dns';

// Two lists: a BlockList also matches IPv4 addresses against IPv4-mapped IPv6 rules.
const BLOCKED_V4 = new BlockList();
const BLOCKED_V6 = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"; 0.0.0.0 reaches the local machine
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, with the cloud metadata service at 169.254.169.254
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and 255.255.255.255
] as const) {
  BLOCKED_V4.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 96], // unspecified, loopback (::1) and the old IPv4-compatible addresses
  ['::ffff:0:0', 96], // IPv4-mapped: would reach any IPv4 address, private ones included
  ['::ffff:0:0:0', 96], // IPv4-translated (SIIT): the same through a translator
  ['64:ff9b::', 96], // NAT64: the same
  ['64:ff9b:1::', 48],
  ['100::', 64], // discard
  ['2001::', 32], // Teredo
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: embeds an IPv4 address
  ['fc00::', 7], // unique local (AWS metadata at fd00:ec2::254)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // old site-local
  ['ff00::', 8], // multicast
] as const) {
  BLOCKED_V6.addSubnet(network, prefix, 'ipv6');
}

/** Names that only ever mean this machine or a cloud's metadata service, whatever DNS says. */
const BLOCKED_NAMES = /^(localhost|.*\.localhost|.*\.local|.*\.internal|metadata|instance-data|.*\.home\.arpa)\.?$/i;

const MAX_URL_LENGTH = 2000;

/** True for an address no webhook may reach (unless private destinations are allowed). */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return family === 4 ? BLOCKED_V4.check(address, 'ipv4') : BLOCKED_V6.check(address, 'ipv6');
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/** The checks that need no DNS: a well-formed http(s) URL without credentials, and no blocked literal address or name. */
export function checkWebhookUrl(text: string, allowPrivate: boolean): UrlCheck {
  if (text.length > MAX_URL_LENGTH) return { ok: false, reason: `The URL is longer than ${MAX_URL_LENGTH} characters.` };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: 'This is not an absolute URL.' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: `Only http and https URLs are allowed, not ${url.protocol.replace(/:$/, '')}.` };
  if (url.username || url.password) return { ok: false, reason: 'The URL must not carry a user name or password; authenticate the webhook by its signature.' };
  if (allowPrivate) return { ok: true, url };
  const host = hostOf(url);
  if (isIP(host)) {
    if (isBlockedAddress(host)) return { ok: false, reason: `${host} is a loopback, private, link-local or reserved address.` };
  } else if (BLOCKED_NAMES.test(host)) {
    return { ok: false, reason: `${host} names this machine or an internal service.` };
  }
  return { ok: true, url };
}

/** The URL's host as an address or name, without the brackets of an IPv6 literal. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await dns.promises.lookup(hostname, { all: true, verbatim: true })).map((entry) => ({ address: entry.address, family: entry.family === 6 ? 6 : 4 }));

export type Destination = { ok: true; url: URL; address: ResolvedAddress } | { ok: false; reason: string };

/**
 * The address to connect to for a URL: its literal address, or the first its name resolves to.
 * With the guard on, every resolved address must be allowed (a name that also points inside is
 * refused), and the caller connects to exactly the address returned, so a second, different DNS
 * answer (rebinding) cannot redirect the request.
 */
export async function resolveDestination(text: string, options: { allowPrivate: boolean; resolve?: Resolver }): Promise<Destination> {
  const checked = checkWebhookUrl(text, options.allowPrivate);
  if (!checked.ok) return checked;
  const host = hostOf(checked.url);
  const literal = isIP(host);
  if (literal) return { ok: true, url: checked.url, address: { address: host, family: literal === 6 ? 6 : 4 } };
  let addresses: ResolvedAddress[];
  try {
    addresses = await (options.resolve ?? systemResolver)(host);
  } catch {
    return { ok: false, reason: `${host} does not resolve.` };
  }
  if (addresses.length === 0) return { ok: false, reason: `${host} does not resolve.` };
  if (!options.allowPrivate) {
    const blocked = addresses.find((entry) => isBlockedAddress(entry.address));
    if (blocked) return { ok: false, reason: `${host} resolves to ${blocked.address}, a loopback, private, link-local or reserved address.` };
  }
  return { ok: true, url: checked.url, address: addresses[0] };
}
