/**
 * The one error type of the notes API. `code` and `description` are sent as
 * `{ "error", "error_description" }` (the shape TokenGuard's RFC 6750 errors
 * have too); `cause` is private.
 */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 404 | 503,
    readonly code: 'invalid_request' | 'not_found' | 'temporarily_unavailable',
    readonly description: string,
    override readonly cause?: unknown,
  ) {
    super(`${code}: ${description}`);
    this.name = 'ApiError';
  }

  static invalidRequest(description: string): ApiError {
    return new ApiError(400, 'invalid_request', description);
  }

  static notFound(description: string): ApiError {
    return new ApiError(404, 'not_found', description);
  }

  static temporarilyUnavailable(cause: unknown): ApiError {
    return new ApiError(503, 'temporarily_unavailable', 'the service is temporarily unavailable; try again shortly', cause);
  }
}
