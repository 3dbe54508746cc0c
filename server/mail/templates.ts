// The e-mails Kluis sends, in English and Dutch: subject, plain text and simple HTML from one source, never confidential content.
import type { Language, Role, SecondFactorKind } from '../../shared/api';

/**
 * The data of every message. WARNING: the server knows nothing confidential, and these messages
 * must not pretend otherwise: no document names, message text or people's names, only the
 * organisation name, a role, links and times (SECURITY.md 1). Times are ISO 8601 strings. The one
 * secret a message carries is a second-factor code sent to prove the mailbox: six digits, single use.
 */
export interface MailTemplateData {
  readonly invitation: { readonly organisationName: string; readonly role: Role; readonly link: string; readonly expiresAt: string };
  /** Instead of an invitation to an address that already has an account: `link` is the sign-in page. */
  readonly invitation_existing_account: { readonly organisationName: string; readonly link: string; readonly at: string };
  readonly account_locked: { readonly organisationName: string; readonly failures: number; readonly lockedUntil: string };
  readonly login_second_step_abandoned: { readonly organisationName: string; readonly at: string };
  readonly password_changed: { readonly organisationName: string; readonly at: string };
  /** A manager stopped trusting every browser of this person (second factors, issue 20). */
  readonly trusted_devices_revoked: { readonly organisationName: string; readonly at: string };
  readonly new_document: { readonly organisationName: string; readonly link: string };
  readonly new_message: { readonly organisationName: string; readonly link: string };
  /** `dueDate`: a calendar date, YYYY-MM-DD. */
  readonly request_reminder: { readonly organisationName: string; readonly link: string; readonly dueDate: string };
  /** A six-digit e-mail code: to sign in (`login`) or to turn e-mail codes on (`setup`); valid until `expiresAt`. */
  readonly second_factor_code: { readonly organisationName: string; readonly code: string; readonly purpose: 'login' | 'setup'; readonly expiresAt: string };
  /** Someone who manages the account removed one of its second factors. */
  readonly second_factor_removed: { readonly organisationName: string; readonly factor: SecondFactorKind; readonly at: string };
  /**
   * An escrow reset's link (issue 21): `link` carries the link secret in its #fragment; the recovery
   * code is NOT in this mail (the resetter passes it on by phone or in person).
   */
  readonly password_reset: { readonly organisationName: string; readonly link: string; readonly expiresAt: string };
  /** Someone at the office opened this person's key through escrow: a reset, a first access, or a rotation re-sealed it. */
  readonly escrow_used: { readonly organisationName: string; readonly use: EscrowUseKind; readonly actorRole: Role; readonly at: string; readonly link: string };
  /** Four eyes: a reset waits for a second person's approval; `link` is the People page. */
  readonly reset_approval_requested: { readonly organisationName: string; readonly link: string; readonly at: string };
  /**
   * To every Administrator: a change to security settings, roles, escrow holders, a reset, a
   * deactivation or a deletion. WARNING: the one template with people's e-mail addresses (the actor
   * and the person concerned), which Administrators see under People anyway; never names or contents.
   */
  readonly admin_security_event: {
    readonly organisationName: string;
    readonly event: AdminSecurityEvent;
    readonly actorEmail: string;
    readonly targetEmail: string | null;
    readonly ip: string | null;
    readonly at: string;
  };
}

/** What an Administrator is told about (admin_security_event). */
export type AdminSecurityEvent =
  | 'settings_changed'
  | 'role_changed'
  | 'escrow_granted'
  | 'escrow_revoked'
  | 'escrow_rotation_started'
  | 'escrow_rotation_finished'
  | 'reset_started'
  | 'reset_approved'
  | 'reset_cancelled'
  | 'reset_completed'
  | 'lock_lifted'
  | 'second_factor_removed'
  | 'account_deactivated'
  | 'account_reactivated'
  | 'account_deleted'
  | 'account_restored'
  | 'account_purged';

export type EscrowUseKind = 'reset' | 'first-access' | 'rotation';

export type MailTemplateKind = keyof MailTemplateData;

/** One message: `{ kind: 'invitation', organisationName, role, link, expiresAt }`, and so on. */
export type MailTemplate<K extends MailTemplateKind = MailTemplateKind> = { [Kind in K]: { readonly kind: Kind } & MailTemplateData[Kind] }[K];

export interface RenderedMail {
  readonly subject: string;
  /** text/plain; lines end in `\n` (the MIME composer turns them into CRLF). */
  readonly text: string;
  /** text/html: a complete document with inline styles, no images, no remote resources. */
  readonly html: string;
}

/**
 * A paragraph, a link shown as its own URL (so the reader sees where it goes) on a line of its own,
 * or a code on a line of its own (large in HTML).
 */
type Block = { readonly paragraph: string } | { readonly link: string } | { readonly code: string };

interface Content {
  readonly subject: string;
  readonly blocks: readonly Block[];
}

/** What the texts may use besides the template's own data; each helper checks its input. */
interface Format {
  /** The organisation name on one line. */
  readonly organisation: string;
  time(iso: string): string;
  /** A calendar date (YYYY-MM-DD) spelled out: "Friday, 17 January 2025". */
  date(isoDate: string): string;
  link(url: string): string;
  role(role: Role): string;
  /** "3 times", "once". */
  times(count: number): string;
  /** A six-digit code, checked. */
  code(code: string): string;
  /** What a second factor is called in a sentence: "your authenticator app". */
  factor(kind: SecondFactorKind): string;
}

/** How each admin_security_event reads in a sentence (lower case; the template capitalises). */
const adminEventNames: { readonly [L in Language]: { readonly [E in AdminSecurityEvent]: string } } = {
  en: {
    settings_changed: 'the security settings were changed',
    role_changed: "someone's role was changed",
    escrow_granted: 'the office key was granted to someone',
    escrow_revoked: 'someone lost the office key',
    escrow_rotation_started: 'a renewal of the office key was started',
    escrow_rotation_finished: 'the office key was renewed',
    reset_started: 'a password reset through the office key was started',
    reset_approved: 'a password reset was approved',
    reset_cancelled: 'a password reset was cancelled or declined',
    reset_completed: 'a password reset was completed',
    lock_lifted: 'a locked account was unlocked',
    second_factor_removed: "a second factor was removed from someone's account",
    account_deactivated: 'an account was deactivated',
    account_reactivated: 'an account was reactivated',
    account_deleted: 'an account was deleted',
    account_restored: 'a deleted account was restored',
    account_purged: "a deleted account's keys were destroyed",
  },
  nl: {
    settings_changed: 'de beveiligingsinstellingen zijn gewijzigd',
    role_changed: 'de rol van iemand is gewijzigd',
    escrow_granted: 'iemand heeft de kantoorsleutel gekregen',
    escrow_revoked: 'iemand heeft de kantoorsleutel verloren',
    escrow_rotation_started: 'een vernieuwing van de kantoorsleutel is begonnen',
    escrow_rotation_finished: 'de kantoorsleutel is vernieuwd',
    reset_started: 'een wachtwoordherstel met de kantoorsleutel is begonnen',
    reset_approved: 'een wachtwoordherstel is goedgekeurd',
    reset_cancelled: 'een wachtwoordherstel is ingetrokken of afgewezen',
    reset_completed: 'een wachtwoordherstel is voltooid',
    lock_lifted: 'een vergrendeld account is ontgrendeld',
    second_factor_removed: 'een tweede factor is van iemands account verwijderd',
    account_deactivated: 'een account is gedeactiveerd',
    account_reactivated: 'een account is weer geactiveerd',
    account_deleted: 'een account is verwijderd',
    account_restored: 'een verwijderd account is hersteld',
    account_purged: 'de sleutels van een verwijderd account zijn vernietigd',
  },
};

type Texts = { readonly [K in MailTemplateKind]: (data: MailTemplateData[K], f: Format) => Content };

const en: Texts = {
  invitation: ({ role, link, expiresAt }, f) => ({
    subject: `You are invited to ${f.organisation} on Kluis`,
    blocks: [
      { paragraph: `You have been invited to join ${f.organisation} on Kluis as ${f.role(role)}. Kluis is a secure portal: documents and messages are encrypted in your browser before they leave your device.` },
      { paragraph: 'Open this link to create your account:' },
      { link: f.link(link) },
      { paragraph: `The link works until ${f.time(expiresAt)}. If clicking it does not work, copy the whole link into your browser, including the part after the # sign.` },
      { paragraph: 'If you did not expect this invitation, you can ignore this message.' },
    ],
  }),
  invitation_existing_account: ({ link, at }, f) => ({
    subject: `Someone tried to invite you to ${f.organisation} on Kluis`,
    blocks: [
      { paragraph: `On ${f.time(at)}, someone at ${f.organisation} tried to invite this e-mail address to Kluis. You already have a Kluis account at ${f.organisation} with this address, so no new account was made and no invitation link was sent.` },
      { paragraph: 'To use your account, sign in with your existing password:' },
      { link: f.link(link) },
      { paragraph: 'If you forgot your password, ask your administrator. If you did not expect this, you can ignore this message.' },
    ],
  }),
  account_locked: ({ failures, lockedUntil }, f) => ({
    subject: `Your Kluis account at ${f.organisation} is temporarily locked`,
    blocks: [
      { paragraph: `Someone (maybe you) entered a wrong password or sign-in code for your Kluis account at ${f.organisation} ${f.times(failures)} in a row. To protect your account, signing in is blocked until ${f.time(lockedUntil)}.` },
      { paragraph: 'If this was you, try again after that time, or ask your administrator to unlock your account sooner.' },
      { paragraph: 'If this was not you, tell your administrator.' },
    ],
  }),
  login_second_step_abandoned: ({ at }, f) => ({
    subject: `Someone used your Kluis password for ${f.organisation}`,
    blocks: [
      { paragraph: `On ${f.time(at)}, your correct password was used to sign in to your Kluis account at ${f.organisation}, but the second step of signing in failed or was abandoned.` },
      { paragraph: 'If this was you, there is nothing to do.' },
      { paragraph: 'If this was not you, someone knows your password: change it as soon as possible and tell your administrator.' },
    ],
  }),
  password_changed: ({ at }, f) => ({
    subject: `Your Kluis password for ${f.organisation} was changed`,
    blocks: [
      { paragraph: `The password of your Kluis account at ${f.organisation} was changed on ${f.time(at)}.` },
      { paragraph: 'If you did this, there is nothing to do.' },
      { paragraph: 'If you did not, tell your administrator at once: someone else may have access to your account.' },
    ],
  }),
  trusted_devices_revoked: ({ at }, f) => ({
    subject: `Your browsers are no longer trusted for Kluis at ${f.organisation}`,
    blocks: [
      { paragraph: `On ${f.time(at)}, someone who manages your Kluis account at ${f.organisation} stopped trusting every browser you had chosen to trust. The next time you sign in, Kluis asks for your second factor again on each of them.` },
      { paragraph: 'If you did not expect this, ask your administrator why.' },
    ],
  }),
  new_document: ({ link }, f) => ({
    subject: `There is a new document for you in Kluis (${f.organisation})`,
    blocks: [
      { paragraph: `There is a new document for you in Kluis at ${f.organisation}. Sign in to read it:` },
      { link: f.link(link) },
      { paragraph: 'For your security, this e-mail does not say what it contains.' },
    ],
  }),
  new_message: ({ link }, f) => ({
    subject: `There is a new message for you in Kluis (${f.organisation})`,
    blocks: [
      { paragraph: `There is a new message for you in Kluis at ${f.organisation}. Sign in to read it:` },
      { link: f.link(link) },
      { paragraph: 'For your security, this e-mail does not say what it contains.' },
    ],
  }),
  request_reminder: ({ link, dueDate }, f) => ({
    subject: `Reminder: documents are requested from you in Kluis (${f.organisation})`,
    blocks: [
      { paragraph: `${f.organisation} asked you for documents in Kluis, due ${f.date(dueDate)}. Some of them have not been uploaded yet. Sign in to see what is needed:` },
      { link: f.link(link) },
      { paragraph: 'For your security, this e-mail does not say which documents.' },
    ],
  }),
  second_factor_code: ({ code, purpose, expiresAt }, f) =>
    purpose === 'login'
      ? {
          subject: `Your sign-in code for Kluis (${f.organisation})`,
          blocks: [
            { paragraph: `Your code to sign in to Kluis at ${f.organisation}:` },
            { code: f.code(code) },
            { paragraph: `It works once, until ${f.time(expiresAt)}. Do not give it to anyone: nobody from ${f.organisation} will ever ask you for it.` },
            { paragraph: 'If you did not just try to sign in, someone knows your password: change it as soon as possible and tell your administrator.' },
          ],
        }
      : {
          subject: `Your code to turn on e-mail codes in Kluis (${f.organisation})`,
          blocks: [
            { paragraph: `Your code to turn on sign-in codes by e-mail for your Kluis account at ${f.organisation}:` },
            { code: f.code(code) },
            { paragraph: `It works once, until ${f.time(expiresAt)}. Do not give it to anyone: nobody from ${f.organisation} will ever ask you for it.` },
            { paragraph: 'If you did not ask for this, tell your administrator.' },
          ],
        },
  second_factor_removed: ({ factor, at }, f) => ({
    subject: `A second factor was removed from your Kluis account at ${f.organisation}`,
    blocks: [
      { paragraph: `On ${f.time(at)}, someone who manages your Kluis account at ${f.organisation} removed ${f.factor(factor)} from your second factors (the extra step after your password when you sign in).` },
      { paragraph: 'If you asked for this, for example because you lost your phone, there is nothing to do: set up a new second factor under Account.' },
      { paragraph: 'If you did not, tell your administrator.' },
    ],
  }),
  password_reset: ({ link, expiresAt }, f) => ({
    subject: `Choose a new password for Kluis (${f.organisation})`,
    blocks: [
      { paragraph: `Someone at ${f.organisation} started a password reset for your Kluis account. Your documents and messages are kept: only your password changes.` },
      { paragraph: 'Open this link to choose a new password:' },
      { link: f.link(link) },
      { paragraph: `You also need the recovery code that your contact at ${f.organisation} gives you by phone or in person. It is not in this e-mail on purpose: someone who reads your mail cannot use the link alone.` },
      { paragraph: `The link works once, until ${f.time(expiresAt)}. If clicking it does not work, copy the whole link into your browser, including the part after the # sign.` },
      { paragraph: 'If you did not ask for this, tell your administrator and do not use the link.' },
    ],
  }),
  escrow_used: ({ use, actorRole, at, link }, f) => ({
    subject: `Your Kluis key safe at ${f.organisation} was opened by your office`,
    blocks: [
      {
        paragraph:
          use === 'reset'
            ? `On ${f.time(at)}, ${f.role(actorRole)} at ${f.organisation} opened your key safe with the office key to reset your password.`
            : use === 'first-access'
              ? `On ${f.time(at)}, ${f.role(actorRole)} at ${f.organisation} opened your documents with the office key for the first time.`
              : `On ${f.time(at)}, ${f.role(actorRole)} at ${f.organisation} renewed the office key and locked the office copy of your key safe under the new one.`,
      },
      { paragraph: 'You can see every use of the office key, and who holds it, under Account in Kluis:' },
      { link: f.link(link) },
      { paragraph: 'If you did not expect this, ask your office why.' },
    ],
  }),
  reset_approval_requested: ({ link, at }, f) => ({
    subject: `A password reset at ${f.organisation} waits for your approval`,
    blocks: [
      { paragraph: `On ${f.time(at)}, a colleague at ${f.organisation} started a password reset through the office key. Your organisation requires a second person to approve it before the reset link is sent.` },
      { paragraph: 'Review it under People in Kluis:' },
      { link: f.link(link) },
    ],
  }),
  admin_security_event: ({ event, actorEmail, targetEmail, ip, at }, f) => ({
    subject: `Security change in Kluis at ${f.organisation}`,
    blocks: [
      { paragraph: `${adminEventNames.en[event].charAt(0).toUpperCase()}${adminEventNames.en[event].slice(1)}${targetEmail ? ` (${oneLine(targetEmail)})` : ''}.` },
      { paragraph: `By ${oneLine(actorEmail)} on ${f.time(at)}, from ${ip ? oneLine(ip) : 'an unknown address'}.` },
      { paragraph: 'Every Administrator gets this message. If nobody at your office expected this change, check the account that made it at once.' },
    ],
  }),
};

const nl: Texts = {
  invitation: ({ role, link, expiresAt }, f) => ({
    subject: `Uitnodiging voor ${f.organisation} in Kluis`,
    blocks: [
      { paragraph: `U bent uitgenodigd om als ${f.role(role)} deel te nemen aan ${f.organisation} in Kluis. Kluis is een beveiligd portaal: documenten en berichten worden in uw browser versleuteld voordat ze uw apparaat verlaten.` },
      { paragraph: 'Open deze link om uw account aan te maken:' },
      { link: f.link(link) },
      { paragraph: `De link is geldig tot ${f.time(expiresAt)}. Werkt klikken niet, kopieer dan de hele link naar uw browser, ook het deel na het #-teken.` },
      { paragraph: 'Verwachtte u deze uitnodiging niet, dan kunt u dit bericht negeren.' },
    ],
  }),
  invitation_existing_account: ({ link, at }, f) => ({
    subject: `Iemand probeerde u uit te nodigen voor ${f.organisation} in Kluis`,
    blocks: [
      { paragraph: `Op ${f.time(at)} heeft iemand bij ${f.organisation} geprobeerd dit e-mailadres uit te nodigen voor Kluis. U heeft met dit adres al een Kluis-account bij ${f.organisation}, dus er is geen nieuw account gemaakt en geen uitnodigingslink verstuurd.` },
      { paragraph: 'Meld u aan met uw bestaande wachtwoord om uw account te gebruiken:' },
      { link: f.link(link) },
      { paragraph: 'Bent u uw wachtwoord vergeten, vraag het dan uw beheerder. Verwachtte u dit niet, dan kunt u dit bericht negeren.' },
    ],
  }),
  account_locked: ({ failures, lockedUntil }, f) => ({
    subject: `Uw Kluis-account bij ${f.organisation} is tijdelijk geblokkeerd`,
    blocks: [
      { paragraph: `Iemand (misschien uzelf) heeft ${f.times(failures)} achter elkaar een verkeerd wachtwoord of een verkeerde aanmeldcode ingevoerd voor uw Kluis-account bij ${f.organisation}. Om uw account te beschermen is aanmelden geblokkeerd tot ${f.time(lockedUntil)}.` },
      { paragraph: 'Was u dit zelf, probeer het dan na dat tijdstip opnieuw of vraag uw beheerder om uw account eerder te ontgrendelen.' },
      { paragraph: 'Was u dit niet, laat het dan uw beheerder weten.' },
    ],
  }),
  login_second_step_abandoned: ({ at }, f) => ({
    subject: `Iemand gebruikte uw Kluis-wachtwoord voor ${f.organisation}`,
    blocks: [
      { paragraph: `Op ${f.time(at)} is met uw juiste wachtwoord geprobeerd aan te melden bij uw Kluis-account bij ${f.organisation}, maar de tweede stap van het aanmelden is mislukt of afgebroken.` },
      { paragraph: 'Was u dit zelf, dan hoeft u niets te doen.' },
      { paragraph: 'Was u dit niet, dan kent iemand uw wachtwoord: wijzig het zo snel mogelijk en laat het uw beheerder weten.' },
    ],
  }),
  password_changed: ({ at }, f) => ({
    subject: `Uw Kluis-wachtwoord voor ${f.organisation} is gewijzigd`,
    blocks: [
      { paragraph: `Het wachtwoord van uw Kluis-account bij ${f.organisation} is gewijzigd op ${f.time(at)}.` },
      { paragraph: 'Heeft u dit zelf gedaan, dan hoeft u niets te doen.' },
      { paragraph: 'Heeft u dit niet gedaan, laat het dan direct uw beheerder weten: iemand anders heeft mogelijk toegang tot uw account.' },
    ],
  }),
  trusted_devices_revoked: ({ at }, f) => ({
    subject: `Uw browsers worden niet meer vertrouwd voor Kluis bij ${f.organisation}`,
    blocks: [
      { paragraph: `Op ${f.time(at)} heeft iemand die uw Kluis-account bij ${f.organisation} beheert het vertrouwen ingetrokken van alle browsers die u had laten onthouden. Bij de volgende keer aanmelden vraagt Kluis op elk daarvan weer om uw tweede factor.` },
      { paragraph: 'Verwachtte u dit niet, vraag dan uw beheerder waarom.' },
    ],
  }),
  new_document: ({ link }, f) => ({
    subject: `Er staat een nieuw document voor u klaar in Kluis (${f.organisation})`,
    blocks: [
      { paragraph: `Er staat een nieuw document voor u klaar in Kluis bij ${f.organisation}. Meld u aan om het te lezen:` },
      { link: f.link(link) },
      { paragraph: 'Om veiligheidsredenen staat in deze e-mail niet wat het bevat.' },
    ],
  }),
  new_message: ({ link }, f) => ({
    subject: `Er staat een nieuw bericht voor u klaar in Kluis (${f.organisation})`,
    blocks: [
      { paragraph: `Er staat een nieuw bericht voor u klaar in Kluis bij ${f.organisation}. Meld u aan om het te lezen:` },
      { link: f.link(link) },
      { paragraph: 'Om veiligheidsredenen staat in deze e-mail niet wat het bevat.' },
    ],
  }),
  request_reminder: ({ link, dueDate }, f) => ({
    subject: `Herinnering: er worden documenten van u gevraagd in Kluis (${f.organisation})`,
    blocks: [
      { paragraph: `${f.organisation} heeft u in Kluis om documenten gevraagd, uiterlijk ${f.date(dueDate)}. Een deel ervan is nog niet geüpload. Meld u aan om te zien wat er nodig is:` },
      { link: f.link(link) },
      { paragraph: 'Om veiligheidsredenen staat in deze e-mail niet om welke documenten het gaat.' },
    ],
  }),
  second_factor_code: ({ code, purpose, expiresAt }, f) =>
    purpose === 'login'
      ? {
          subject: `Uw aanmeldcode voor Kluis (${f.organisation})`,
          blocks: [
            { paragraph: `Uw code om aan te melden bij Kluis bij ${f.organisation}:` },
            { code: f.code(code) },
            { paragraph: `De code werkt één keer, tot ${f.time(expiresAt)}. Geef hem aan niemand: niemand van ${f.organisation} zal er ooit om vragen.` },
            { paragraph: 'Probeerde u niet zojuist aan te melden, dan kent iemand uw wachtwoord: wijzig het zo snel mogelijk en laat het uw beheerder weten.' },
          ],
        }
      : {
          subject: `Uw code om e-mailcodes aan te zetten in Kluis (${f.organisation})`,
          blocks: [
            { paragraph: `Uw code om aanmelden met codes per e-mail aan te zetten voor uw Kluis-account bij ${f.organisation}:` },
            { code: f.code(code) },
            { paragraph: `De code werkt één keer, tot ${f.time(expiresAt)}. Geef hem aan niemand: niemand van ${f.organisation} zal er ooit om vragen.` },
            { paragraph: 'Heeft u hier niet om gevraagd, laat het dan uw beheerder weten.' },
          ],
        },
  second_factor_removed: ({ factor, at }, f) => ({
    subject: `Er is een tweede factor verwijderd van uw Kluis-account bij ${f.organisation}`,
    blocks: [
      { paragraph: `Op ${f.time(at)} heeft iemand die uw Kluis-account bij ${f.organisation} beheert ${f.factor(factor)} verwijderd uit uw tweede factoren (de extra stap na uw wachtwoord bij het aanmelden).` },
      { paragraph: 'Heeft u hierom gevraagd, bijvoorbeeld omdat u uw telefoon kwijt bent, dan hoeft u niets te doen: stel onder Account een nieuwe tweede factor in.' },
      { paragraph: 'Heeft u dit niet gevraagd, laat het dan uw beheerder weten.' },
    ],
  }),
  password_reset: ({ link, expiresAt }, f) => ({
    subject: `Kies een nieuw wachtwoord voor Kluis (${f.organisation})`,
    blocks: [
      { paragraph: `Iemand van ${f.organisation} is een wachtwoordherstel begonnen voor uw Kluis-account. Uw documenten en berichten blijven bewaard: alleen uw wachtwoord verandert.` },
      { paragraph: 'Open deze link om een nieuw wachtwoord te kiezen:' },
      { link: f.link(link) },
      { paragraph: `U hebt ook de herstelcode nodig die uw contactpersoon bij ${f.organisation} u telefonisch of persoonlijk geeft. Die staat met opzet niet in deze e-mail: wie uw e-mail leest, kan de link alleen niet gebruiken.` },
      { paragraph: `De link werkt één keer, tot ${f.time(expiresAt)}. Werkt klikken niet, kopieer dan de hele link naar uw browser, ook het deel na het #-teken.` },
      { paragraph: 'Hebt u hier niet om gevraagd? Meld het aan uw beheerder en gebruik de link niet.' },
    ],
  }),
  escrow_used: ({ use, actorRole, at, link }, f) => ({
    subject: `Uw Kluis-sleutelkluis bij ${f.organisation} is door uw kantoor geopend`,
    blocks: [
      {
        paragraph:
          use === 'reset'
            ? `Op ${f.time(at)} heeft ${f.role(actorRole)} van ${f.organisation} uw sleutelkluis met de kantoorsleutel geopend om uw wachtwoord te herstellen.`
            : use === 'first-access'
              ? `Op ${f.time(at)} heeft ${f.role(actorRole)} van ${f.organisation} uw documenten voor het eerst met de kantoorsleutel geopend.`
              : `Op ${f.time(at)} heeft ${f.role(actorRole)} van ${f.organisation} de kantoorsleutel vernieuwd en de kantoorkopie van uw sleutelkluis onder de nieuwe sleutel gelegd.`,
      },
      { paragraph: 'Elk gebruik van de kantoorsleutel, en wie hem heeft, ziet u onder Account in Kluis:' },
      { link: f.link(link) },
      { paragraph: 'Had u dit niet verwacht? Vraag uw kantoor waarom.' },
    ],
  }),
  reset_approval_requested: ({ link, at }, f) => ({
    subject: `Een wachtwoordherstel bij ${f.organisation} wacht op uw goedkeuring`,
    blocks: [
      { paragraph: `Op ${f.time(at)} is een collega bij ${f.organisation} een wachtwoordherstel met de kantoorsleutel begonnen. Uw organisatie eist dat een tweede persoon het goedkeurt voordat de herstellink wordt verstuurd.` },
      { paragraph: 'Bekijk het onder Mensen in Kluis:' },
      { link: f.link(link) },
    ],
  }),
  admin_security_event: ({ event, actorEmail, targetEmail, ip, at }, f) => ({
    subject: `Beveiligingswijziging in Kluis bij ${f.organisation}`,
    blocks: [
      { paragraph: `${adminEventNames.nl[event].charAt(0).toUpperCase()}${adminEventNames.nl[event].slice(1)}${targetEmail ? ` (${oneLine(targetEmail)})` : ''}.` },
      { paragraph: `Door ${oneLine(actorEmail)} op ${f.time(at)}, vanaf ${ip ? oneLine(ip) : 'een onbekend adres'}.` },
      { paragraph: 'Elke beheerder krijgt dit bericht. Verwachtte niemand op uw kantoor deze wijziging? Controleer dan meteen het account dat hem maakte.' },
    ],
  }),
};

const texts: Record<Language, Texts> = { en, nl };

const frame: Record<Language, { readonly greeting: string; readonly footer: (organisation: string) => string }> = {
  en: {
    greeting: 'Hello,',
    footer: (organisation) => `This message was sent automatically by Kluis for ${organisation}. Kluis never asks for your password by e-mail.`,
  },
  nl: {
    greeting: 'Goedendag,',
    footer: (organisation) => `Dit bericht is automatisch verzonden door Kluis namens ${organisation}. Kluis vraagt nooit per e-mail om uw wachtwoord.`,
  },
};

const roleNames: Record<Language, Record<Role, string>> = {
  en: { admin: 'an Administrator', team: 'a Team Member', client: 'a client', auditor: 'an auditor' },
  nl: { admin: 'beheerder', team: 'teamlid', client: 'klant', auditor: 'auditor' },
};

const factorNames: Record<Language, Record<SecondFactorKind, string>> = {
  en: { totp: 'your authenticator app', email: 'sign-in codes by e-mail', passkey: 'a passkey or security key' },
  nl: { totp: 'uw authenticator-app', email: 'aanmeldcodes per e-mail', passkey: 'een passkey of beveiligingssleutel' },
};

const locales: Record<Language, string> = { en: 'en-GB', nl: 'nl-NL' };
/** Every time is shown in the offices' zone, with the zone named, whatever the recipient's language. */
const timeZone = 'Europe/Amsterdam';
const zoneNames: Readonly<Record<string, string>> = { 'GMT+01:00': 'CET', 'GMT+02:00': 'CEST' };
const isoDateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * A time for people, in the recipient's language and Amsterdam time with the zone named:
 * "Wednesday, 15 January 2025 at 14:05 (CET)", "woensdag 15 januari 2025 om 14:05 (CET)".
 * Throws TypeError for a string that is not a date.
 */
export function formatMailTime(language: Language, iso: string): string {
  const date = new Date(iso);
  if (!isoDateTime.test(iso) || Number.isNaN(date.getTime())) throw new TypeError('mail template: a time is not an ISO 8601 date and time');
  const formatted = new Intl.DateTimeFormat(locales[language], { dateStyle: 'full', timeStyle: 'short', timeZone }).format(date);
  // The offset decides the name, not ICU's short names (they vary with the ICU build and the locale).
  const offset = new Intl.DateTimeFormat('en-GB', { timeZone, timeZoneName: 'longOffset' }).formatToParts(date).find((part) => part.type === 'timeZoneName')?.value ?? '';
  return `${formatted} (${zoneNames[offset] ?? offset})`;
}

const isoDate = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * A calendar date for people, in the recipient's language: "Friday, 17 January 2025",
 * "vrijdag 17 januari 2025". Throws TypeError for a string that is not a real YYYY-MM-DD date.
 */
export function formatMailDate(language: Language, value: string): string {
  const match = isoDate.exec(value);
  const date = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : null;
  if (!date || date.toISOString().slice(0, 10) !== value) throw new TypeError('mail template: a date is not a YYYY-MM-DD calendar date');
  return new Intl.DateTimeFormat(locales[language], { dateStyle: 'full', timeZone: 'UTC' }).format(date);
}

/** One line of printable text: control characters and line breaks would let a name fake paragraphs or headers. */
function oneLine(value: string): string {
  return value.replace(/[\p{Cc}\p{Zl}\p{Zp}\s]+/gu, ' ').trim();
}

/**
 * WARNING: links go out verbatim, `#fragment` included (it carries pins the server must never
 * receive back, SECURITY.md 5.2): no encoding, wrapping, redirect or tracking parameter. So a link
 * must be an absolute http(s) URL with nothing that would end it early in text or HTML.
 */
function checkLink(link: string): string {
  if (!URL.canParse(link) || !/^https?:$/.test(new URL(link).protocol) || /[\s"'<>\\`]/u.test(link) || /\p{Cc}/u.test(link)) {
    throw new TypeError('mail template: a link must be an absolute http(s) URL without spaces, quotes or angle brackets');
  }
  return link;
}

function formatFor(language: Language, organisationName: string): Format {
  const organisation = oneLine(organisationName);
  if (organisation === '') throw new TypeError('mail template: organisationName is empty');
  return {
    organisation,
    time: (iso) => formatMailTime(language, iso),
    date: (value) => formatMailDate(language, value),
    link: checkLink,
    role: (role) => roleNames[language][role],
    times: (count) => {
      if (!Number.isSafeInteger(count) || count < 1) throw new TypeError('mail template: a count must be a positive whole number');
      if (language === 'nl') return count === 1 ? 'één keer' : `${count} keer`;
      return count === 1 ? 'once' : `${count} times`;
    },
    code: (code) => {
      if (!/^[0-9]{6}$/.test(code)) throw new TypeError('mail template: a code must be six digits');
      return code;
    },
    factor: (kind) => {
      const name = factorNames[language][kind];
      if (name === undefined) throw new TypeError('mail template: unknown kind of second factor');
      return name;
    },
  };
}

/** Looks up the texts of `template.kind` with their own data type (TypeScript's correlated-union pattern, no cast). */
function contentOf<K extends MailTemplateKind>(language: Language, template: MailTemplate<K>, f: Format): Content {
  const write: Texts[K] = texts[language][template.kind];
  return write(template, f);
}

function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function renderText(blocks: readonly Block[]): string {
  return `${blocks.map((block) => ('link' in block ? block.link : 'code' in block ? block.code : block.paragraph)).join('\n\n')}\n`;
}

function renderHtml(language: Language, subject: string, blocks: readonly Block[]): string {
  const body = blocks.map((block) =>
    'link' in block
      ? `<p><a href="${escapeHtml(block.link)}" style="color:#1a4d8f;word-break:break-all">${escapeHtml(block.link)}</a></p>`
      : 'code' in block
        ? `<p style="font-family:ui-monospace,Consolas,monospace;font-size:28px;font-weight:bold;letter-spacing:4px">${escapeHtml(block.code)}</p>`
        : `<p>${escapeHtml(block.paragraph)}</p>`,
  );
  return [
    '<!DOCTYPE html>',
    `<html lang="${language}">`,
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(subject)}</title></head>`,
    '<body style="margin:0;padding:24px;font-family:system-ui,-apple-system,Segoe UI,Roboto,Arial,sans-serif;font-size:16px;line-height:1.5;color:#1b1f24;background:#ffffff">',
    '<div style="max-width:600px">',
    ...body,
    '</div>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/**
 * The subject, text and HTML of one message in the recipient's language. Throws TypeError for data
 * that cannot be shown (a time that is not ISO 8601, a link that is not an absolute http(s) URL, no
 * organisation name, a count below one).
 */
export function renderMail(language: Language, template: MailTemplate): RenderedMail {
  const f = formatFor(language, template.organisationName);
  const content = contentOf(language, template, f);
  const blocks: Block[] = [{ paragraph: frame[language].greeting }, ...content.blocks, { paragraph: frame[language].footer(f.organisation) }];
  return { subject: content.subject, text: renderText(blocks), html: renderHtml(language, content.subject, blocks) };
}
