import { probeServer } from '../../helpers/test-servers.js';
import type { BrokerUnderTest, IsolatedBroker } from './broker.js';

/**
 * A broker's isolated space for one test run: opened once (probing the server first), handed to
 * every case, removed at the end. Opening never throws; a case asking for the space gets the
 * reason it could not be made, so an unreachable server fails each case with its name.
 */
export class BrokerSpace {
  readonly broker: BrokerUnderTest;
  #isolated: IsolatedBroker | undefined;
  #unreachable: Error | undefined;

  constructor(broker: BrokerUnderTest) {
    this.broker = broker;
  }

  /** Probes the server and makes the run's space; never throws (cases fail with the cause). */
  async open(): Promise<void> {
    if (this.broker.server) this.#unreachable = await probeServer(this.broker.server);
    if (this.#unreachable) return;
    try {
      this.#isolated = await this.broker.isolate();
    } catch (error) {
      this.#unreachable = error instanceof Error ? error : new Error(String(error));
    }
  }

  /** The isolated space; throws the reason the run could not start. */
  get isolated(): IsolatedBroker {
    if (this.#unreachable) throw this.#unreachable;
    if (!this.#isolated) throw new Error('the broker run was not opened');
    return this.#isolated;
  }

  /** Removes what the run created on the broker, if the space was made. */
  protected async removeSpace(): Promise<void> {
    await this.#isolated?.cleanup();
  }
}
