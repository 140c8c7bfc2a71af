/**
 * A request's path as the access log may show it. The query string is left out whole (OAuth2
 * clients may send client_secret or token there, target URLs carry order tokens), and the path of
 * a T&C link, which is itself the secret that accepts the T&C, is cut to its route.
 */
export function loggablePath(url: string): string {
  const path = url.split(/[?#]/, 1)[0];
  return path.replace(/^\/terms\/[^/]+/, '/terms/…');
}
