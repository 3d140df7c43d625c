import { GatekeeperError } from '../core/errors.ts';

/** The command line itself is wrong (unknown command, bad flag); main() prints usage and exits 2. */
export class UsageError extends GatekeeperError {
  constructor(message: string) {
    super(message, { code: 'USAGE' });
    this.name = 'UsageError';
  }
}
