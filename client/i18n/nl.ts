// Dutch messages; `satisfies Messages` makes a missing or extra key a type error.
import type { Messages } from './en';

export const nl = {
  app: {
    name: 'Kluis',
    tagline: 'Uw documenten, op slot in uw eigen browser',
    skipToContent: 'Naar de inhoud',
    footer: 'Kluis versleutelt in uw browser. De server bewaart alleen verzegelde gegevens.',
  },
  language: {
    label: 'Taal',
    en: 'English',
    nl: 'Nederlands',
  },
  welcome: {
    documentTitle: 'Kluis: beveiligd klantportaal',
    title: 'Kluis',
    lead: 'Een klantportaal waarin documenten, berichten en hun namen op uw apparaat worden versleuteld voordat ze het verlaten.',
    explainTitle: 'Hoe Kluis u beschermt',
    explainEncrypt:
      'Alles wat u deelt, wordt in uw browser versleuteld met sleutels die alleen u en de mensen met wie u deelt bezitten.',
    explainServer:
      'De server bewaart afgesloten kluizen die hij zelf niet kan openen: niet uw bestanden, niet hun namen, niet uw wachtwoord.',
    explainSession:
      'Uw sleutels bestaan alleen in het geheugen zolang u bent aangemeld, en verdwijnen zodra u vergrendelt of de pagina sluit.',
    statusTitle: 'Systeemstatus',
  },
  server: {
    title: 'Server',
    checking: 'Verbinding controleren…',
    online: 'Online',
    version: 'Versie {{version}}',
    offline: 'Niet bereikbaar',
    offlineHelp: 'Controleer uw internetverbinding; Kluis blijft het proberen.',
    error: 'De server meldde een probleem ({{code}}).',
    retry: 'Opnieuw proberen',
  },
  engine: {
    title: 'Versleutelingsmodule',
    starting: 'Versleutelingsmodule wordt gestart…',
    ready: 'Versleutelingsmodule gereed',
    readyHelp:
      'Zelftest geslaagd in {{ms}} ms: versleutelen, ontsleutelen en detectie van manipulatie.',
    failed: 'Versleutelingsmodule niet beschikbaar',
    failedHelp:
      'Deze browser kon de versleutelingsmodule niet starten. Kluis is hier niet veilig te gebruiken; probeer een actuele browser.',
  },
  notFound: {
    documentTitle: 'Pagina niet gevonden: Kluis',
    title: 'Pagina niet gevonden',
    body: 'Op dit adres staat niets.',
    home: 'Naar de startpagina',
  },
} satisfies Messages;
