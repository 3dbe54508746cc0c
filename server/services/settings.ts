// Organisation settings: defaults and parsing of the stored JSON.
import { DEFAULT_PASSWORD_RULES } from '../../shared/accounts/password-rules';
import { type OrganisationSettings, organisationSettingsSchema } from '../../shared/api';

export const DEFAULT_SETTINGS: OrganisationSettings = {
  lockout: { maxFailures: 3, durationMinutes: 60 },
  passwordRules: { ...DEFAULT_PASSWORD_RULES },
  session: { idleMinutes: 30, absoluteHours: 12 },
  autoLockMinutes: 15,
  // ASVS 5.0 6.3.3: a second factor for privileged roles (enforced by the second-factor issue).
  secondFactorRoles: ['admin', 'team', 'auditor'],
  teamIpAllowlist: [],
  invitationDomainAllowlist: [],
  resetLinkHours: 72,
  resetNeedsApproval: false,
};

export function parseSettings(json: string): OrganisationSettings {
  return organisationSettingsSchema.parse(JSON.parse(json));
}
