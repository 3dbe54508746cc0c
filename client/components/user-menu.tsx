// The header's account part: organisation name and a menu (Account, Lock now, Log out) while signed in.
import { useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'wouter';
import { useAccount } from '../account';

export function HeaderAccount() {
  const { t } = useTranslation();
  const account = useAccount();
  const [, navigate] = useLocation();
  const [open, setOpen] = useState(false);
  const menuId = useId();
  const container = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    const onPointer = (event: PointerEvent) => {
      if (event.target instanceof Node && !container.current?.contains(event.target))
        setOpen(false);
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') {
        setOpen(false);
        button.current?.focus();
      }
    };
    document.addEventListener('pointerdown', onPointer);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('pointerdown', onPointer);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  const { state } = account;
  if (state.kind !== 'signed-in') return null;
  const label = state.name ?? state.session.user.email;
  return (
    <div className="header-account" ref={container}>
      <p className="header-organisation">{state.session.organisation.name}</p>
      <div className="user-menu">
        <button
          ref={button}
          type="button"
          className="user-menu-button"
          aria-expanded={open}
          aria-controls={menuId}
          onClick={() => setOpen((shown) => !shown)}
        >
          <span className="visually-hidden">{t('menu.label')}: </span>
          {label}
        </button>
        <ul className="user-menu-list" id={menuId} hidden={!open} aria-label={t('menu.label')}>
          <li>
            <Link href="~/app/account" className="user-menu-item" onClick={() => setOpen(false)}>
              {t('menu.account')}
            </Link>
          </li>
          <li>
            <button
              type="button"
              className="user-menu-item"
              onClick={() => {
                setOpen(false);
                account.lock('manual');
              }}
            >
              {t('menu.lock')}
            </button>
          </li>
          <li>
            <button
              type="button"
              className="user-menu-item"
              onClick={() => {
                setOpen(false);
                void account.signOut().then(() => navigate('/login'));
              }}
            >
              {t('menu.logout')}
            </button>
          </li>
        </ul>
      </div>
    </div>
  );
}
