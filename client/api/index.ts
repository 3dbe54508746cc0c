// Public entry of the browser's API layer: callApi and its one error type.
export {
  ApiError,
  isApiError,
  isApiErrorCode,
  clientErrorCodes,
  type ApiErrorCode,
  type ClientErrorCode,
  type ApiErrorIssue,
} from './api-error';
export {
  callApi,
  createApiClient,
  type CallApi,
  type ApiCallOptions,
  type ApiClientOptions,
} from './call-api';
