import { describe, expect, it } from 'vitest';
import { canTransition, statusesThatMayMoveTo, TERMINAL_STATUSES } from '../../src/domain/order-status.js';

describe('statusesThatMayMoveTo', () => {
  it('lists where a status can be reached from, as the database query needs it', () => {
    // A user who left (ABORTED) may come back.
    expect(statusesThatMayMoveTo('INITIALIZED')).toEqual(['CREATED', 'ABORTED']);
    expect(statusesThatMayMoveTo('CREATED')).toEqual([]);
    const toCanceled = statusesThatMayMoveTo('CANCELED');
    expect(toCanceled).toContain('INITIALIZED');
    for (const terminal of TERMINAL_STATUSES) expect(toCanceled).not.toContain(terminal);
  });

  it('agrees with canTransition for a status that is not in the list', () => {
    expect(statusesThatMayMoveTo('IDENTIFICATION_DONE')).not.toContain('DATA_READY');
    expect(canTransition('DATA_READY', 'IDENTIFICATION_DONE')).toBe(false);
  });
});
