// Public entry of the typed API client (call-api.ts) and its one error type (api-error.ts). The browser
// binds it to its own origin (client/api); Node callers (demo, tests, benchmarks) pass their own fetch.
export { createApiClient, type ApiCallOptions, type ApiClientOptions, type CallApi } from './call-api';
export { ApiError, isApiError, isApiErrorCode, clientErrorCodes, type ApiErrorCode, type ApiErrorInit, type ApiErrorIssue, type ClientErrorCode } from './api-error';
