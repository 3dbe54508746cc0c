// Changing a person's role (issue 21): the Administrator's browser certifies the person's keys again
// under the new role, and the server stores that certificate with the change (PUT /api/users/:id/role).
import { changeRole as changeRoleEndpoint, type SignedPayload } from '../api';
import type { CallApi } from '../api/client';
import { type SigningPrivateKey, toHex } from '../crypto';
import { type CertificateBasis, type VerifiedIdentity, signCertificate } from './certificates';

/** The roles a role change moves between (the server refuses any other with `role_change_not_allowed`). */
export type ChangeableRole = 'admin' | 'team';

/**
 * WARNING: browsers take a person's role from the newest certificate that chains to the pinned root
 * (verifyDirectory), never from the server's role column. Without a new certificate a promotion
 * would not count in anyone's browser, and a demoted Administrator would still be trusted to
 * certify staff. The certificate names exactly the keys the directory already vouches for
 * (`subject` is a verified identity, never a bare server listing).
 */
export function roleCertificate(
  issuer: { readonly userId: string; readonly signingKey: SigningPrivateKey },
  subject: VerifiedIdentity,
  role: ChangeableRole,
  now: Date = new Date(),
): Promise<SignedPayload> {
  // The basis says how the keys were first tied to the person; it does not change with the role. A
  // "root" certificate is only ever self-signed by the founding Administrator, so another
  // Administrator re-certifying the root's keys vouches for them as checked keys.
  const basis: CertificateBasis = subject.basis === 'root' ? 'first-use' : subject.basis;
  return signCertificate(
    issuer,
    {
      userId: subject.userId,
      email: subject.email,
      role,
      encKey: toHex(subject.encryptionKey.fingerprint),
      sigKey: toHex(subject.signingKey.fingerprint),
    },
    basis,
    now,
  );
}

/** Issues the certificate for `role` and asks the server to change the role with it. */
export async function changeRole(
  api: CallApi,
  issuer: { readonly userId: string; readonly signingKey: SigningPrivateKey },
  subject: VerifiedIdentity,
  role: ChangeableRole,
): Promise<void> {
  const certificate = await roleCertificate(issuer, subject, role);
  await api(changeRoleEndpoint, { params: { id: subject.userId }, body: { role, certificate } });
}
