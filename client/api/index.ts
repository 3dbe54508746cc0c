// Public entry of the browser's API layer: callApi (the typed client of shared/api on this origin) and its one error type.
import { createApiClient, type CallApi } from '../../shared/api/client';

export {
  ApiError,
  isApiError,
  isApiErrorCode,
  clientErrorCodes,
  createApiClient,
  type ApiErrorCode,
  type ClientErrorCode,
  type ApiErrorIssue,
  type CallApi,
  type ApiCallOptions,
  type ApiClientOptions,
} from '../../shared/api/client';

/** Calls an endpoint of this portal's own server (same origin). */
export const callApi: CallApi = createApiClient();
