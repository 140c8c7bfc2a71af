import net from 'node:net';

/**
 * Fails at once when the port is taken, before the database is opened and migrated (which may
 * take seconds): the same EADDRINUSE error the real listen would give much later.
 */
export async function ensurePortFree(port: number, host: string): Promise<void> {
  if (port === 0) return;
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen({ port, host, exclusive: true }, () => resolve());
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}
