/**
 * The store's bound on unpublished dead letters was reached. A store whose dead letters are
 * relayed to a topic never drops one that is not yet published to make room: it refuses the
 * decision instead (nothing of it is written), and the caller waits for the relay and decides the
 * input again. Retriable by nature: room comes back as soon as the relay publishes.
 */
import { GatekeeperError } from '../core/errors.ts';

export class DeadLettersFullError extends GatekeeperError {
  constructor(where: string, bound: string) {
    super(
      `${where}: the dead letters waiting to be published reached the bound (${bound}); the decision was not written. ` +
        'It is decided again once the relay has published some (if this persists, the dead-letter topic cannot be written: check it and the broker)',
      { code: 'DEAD_LETTERS_FULL', retriable: true },
    );
    this.name = 'DeadLettersFullError';
  }
}
