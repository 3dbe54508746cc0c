// The name a space goes by on screen: the client's name (or e-mail), "My documents", or "Team space".
import type { TFunction } from 'i18next';
import type { SpaceView } from '../../worker/space-types';

export function spaceTitle(t: TFunction, space: SpaceView, ownSpace: boolean): string {
  if (space.kind === 'team') return t('spaces.teamSpace');
  if (ownSpace) return t('spaces.mySpace');
  return space.clientName ?? space.clientEmail ?? t('spaces.cannotDecrypt');
}
