// Where each issuer's orders go, from the configuration: to the partner of the partners file,
// to the built-in simulator (unless SIMULATORS=0; TEST only in test mode), or nowhere (its
// methods are then not offered). The one place that decides it; the server asks it for the
// connectors and the simulators.
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Config } from '../config.js';
import type { SqlRunner } from '../db/adapter.js';
import type { DataProtection } from '../crypto/data-protection.js';
import { log } from '../observability/log.js';
import type { ConnectorRegistry, IpspConnector } from './connector.js';
import { createHttpConnector } from './http-connector.js';
import { httpsAgent } from './http-client.js';
import { createSimulators, PARTNER_PROFILES, partnerByIssuer, type Simulators } from './simulators.js';
import { TEST_ISSUER, type PartnerSettings } from './config.js';

export type IssuerRoute =
  | { issuer: string; via: 'partner'; partner: PartnerSettings }
  | { issuer: string; via: 'simulator'; slug: string }
  | { issuer: string; via: 'none' };

/** Where each issuer of the catalogue goes under this configuration. */
export function issuerRoutes(config: Pick<Config, 'partners' | 'testMode'>): IssuerRoute[] {
  return PARTNER_PROFILES.map((profile): IssuerRoute => {
    const partner = config.partners.partners.get(profile.issuer);
    if (partner) return { issuer: profile.issuer, via: 'partner', partner };
    const simulated = profile.issuer === TEST_ISSUER ? config.testMode : config.partners.simulators;
    return simulated ? { issuer: profile.issuer, via: 'simulator', slug: profile.slug } : { issuer: profile.issuer, via: 'none' };
  });
}

/** Whether anything serves the issuer's orders: the catalogue offers only the methods of these. */
export function servedIssuers(config: Pick<Config, 'partners' | 'testMode'>): (issuer: string) => boolean {
  const served = new Set(issuerRoutes(config).filter((route) => route.via !== 'none').map((route) => route.issuer));
  return (issuer) => served.has(issuer.toUpperCase());
}

/** Whether the issuer's built-in simulator is served (and its IPSP client may get tokens). */
export function simulatedIssuers(config: Pick<Config, 'partners' | 'testMode'>): (issuer: string) => boolean {
  const simulated = new Set(issuerRoutes(config).filter((route) => route.via === 'simulator').map((route) => route.issuer));
  return (issuer) => simulated.has(issuer.toUpperCase());
}

export interface PartnerRegistry {
  connectors: ConnectorRegistry;
  /** The simulators of the issuers routed to them; the others' paths answer 404. */
  simulators: Simulators;
}

/** Builds each issuer's connector and the simulators it needs, and logs where each issuer goes. */
export function createPartnerRegistry(
  config: Config,
  deps: { prisma: PrismaClient; database: SqlRunner; secrets: Map<string, string>; dataProtection: DataProtection },
): PartnerRegistry {
  const routes = issuerRoutes(config);
  const connectors = new Map<string, IpspConnector>();
  for (const route of routes) {
    if (route.via === 'partner') {
      const { apiUrl, timeoutMs, headers, tls } = route.partner;
      connectors.set(route.issuer, createHttpConnector(apiUrl, { timeoutMs, headers, agent: tls ? httpsAgent(tls) : undefined }));
      if (new URL(apiUrl).protocol === 'http:' && !isLoopback(apiUrl)) {
        log().warn({ issuer: route.issuer, apiUrl }, 'this partner is reached over plain http: order tokens travel unencrypted; use https');
      }
    } else if (route.via === 'simulator') {
      connectors.set(route.issuer, createHttpConnector(`${config.internalUrl}/ipsp/${route.slug}/api`));
    }
    log().info(
      {
        issuer: route.issuer,
        via: route.via,
        ...(route.via === 'partner' && { apiUrl: route.partner.apiUrl, timeoutMs: route.partner.timeoutMs, clientCertificate: Boolean(route.partner.tls?.cert) }),
        ...(route.via === 'simulator' && { simulator: `${config.publicUrl}/ipsp/${route.slug}/` }),
      },
      route.via === 'partner'
        ? `${route.issuer} orders go to the partner at ${route.partner.apiUrl}`
        : route.via === 'simulator'
          ? `${route.issuer} orders go to the built-in simulator`
          : `${route.issuer} has no partner: its methods are not offered`,
    );
  }
  const simulated = simulatedIssuers(config);
  return {
    connectors: (issuer) => connectors.get(partnerByIssuer(issuer)?.issuer ?? issuer.toUpperCase()),
    simulators: createSimulators({
      prisma: deps.prisma,
      database: deps.database,
      internalUrl: config.internalUrl,
      publicUrl: config.publicUrl,
      secrets: deps.secrets,
      testMode: config.testMode,
      dataProtection: deps.dataProtection,
      simulates: simulated,
    }),
  };
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
}
