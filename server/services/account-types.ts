// Validated request bodies the account services take (inferred from the shared contract).
import type { EndpointValidated } from '../../shared/api';
import type { accountKeysSchema, finishRecovery, finishSetup, finishSignup, updateSettings } from '../../shared/api/accounts';
import type { z } from 'zod';

export type AccountKeysInput = z.output<typeof accountKeysSchema>;
export type FinishSetupBody = EndpointValidated<typeof finishSetup>['body'];
export type FinishRecoveryBody = EndpointValidated<typeof finishRecovery>['body'];
export type FinishSignupBody = EndpointValidated<typeof finishSignup>['body'];
export type SettingsBody = EndpointValidated<typeof updateSettings>['body'];
