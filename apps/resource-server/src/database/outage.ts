import { isDatabaseOutage } from '@tessera/persistence';
import { ApiError } from '../http/api-error.js';

/** Runs `work`, turning a database outage into a 503 (as libs/persistence's adapters do); other errors pass unchanged. */
export async function withOutageAs503<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw isDatabaseOutage(error) ? ApiError.temporarilyUnavailable(error) : error;
  }
}
