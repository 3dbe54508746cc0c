// The security warning of a space: what the crypto worker found wrong with its signed history, key or listing, in plain words.
import { useTranslation } from 'react-i18next';
import { Alert } from '../../components/alert';
import type { SecurityProblem, SpaceSecurity } from '../../worker/space-types';

/** The order problems are named in: the most serious first. */
const ORDER: readonly SecurityProblem[] = [
  'key-substituted',
  'rollback',
  'bad-signature',
  'unknown-author',
  'broken-chain',
  'invalid-entry',
  'mismatch',
  'missing',
  'unsigned',
];

/**
 * Nothing when everything shown was verified. Otherwise an assertive alert (role="alert") naming each
 * kind of problem once, whether changes are switched off, and the technical details for support.
 * WARNING: never worded as a browser or network problem (SECURITY.md §4.9).
 */
export function SecurityBanner({ security }: { security: SpaceSecurity }) {
  const { t } = useTranslation();
  if (security.warnings.length === 0) return null;
  // A space without any signed history is its own case; unsigned items are the other.
  const unsignedSpace = security.warnings.some(
    (warning) => warning.problem === 'unsigned' && warning.item === null,
  );
  const problems = ORDER.filter((problem) =>
    security.warnings.some((warning) => warning.problem === problem),
  );
  const text = (problem: SecurityProblem) =>
    problem === 'unsigned' && unsignedSpace
      ? t('spaces.security.problems.unsignedSpace')
      : t(`spaces.security.problems.${problem}`);
  return (
    <Alert tone="security" title={t('spaces.security.title')}>
      <ul>
        {problems.map((problem) => (
          <li key={problem}>{text(problem)}</li>
        ))}
      </ul>
      <p>{security.writable ? t('spaces.security.writableNote') : t('spaces.security.readOnly')}</p>
      {!security.writable && <p>{t('spaces.security.tell')}</p>}
      <details>
        <summary>{t('spaces.security.details')}</summary>
        <ul className="security-details">
          {security.warnings.map((warning, index) => (
            <li key={index}>
              <code>{warning.problem}</code>
              {warning.item && ` ${warning.item.kind} ${warning.item.id}`}
              {warning.entry !== null && ` #${warning.entry}`}: {warning.detail}
            </li>
          ))}
        </ul>
      </details>
    </Alert>
  );
}

/**
 * The per-item mark of an item that is not exactly as signed: "Not in the signed history" (no entry
 * made it), or "Differs from what was signed" (the server lists it otherwise), with why in its title.
 */
export function NotSignedMark({ inHistory }: { inHistory: boolean }) {
  const { t } = useTranslation();
  return (
    <span
      className="badge badge-security"
      title={inHistory ? t('spaces.differsHelp') : t('spaces.notSignedHelp')}
    >
      {inHistory ? t('spaces.differs') : t('spaces.notSigned')}
    </span>
  );
}
