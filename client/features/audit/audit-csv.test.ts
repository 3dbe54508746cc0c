// The export's CSV: quoting per RFC 4180 and formula-injection safety, against hand-written expected text.
import { describe, expect, it } from 'vitest';
import { auditCsv, csvCell } from './audit-csv';

describe('csvCell', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\rhere', '"cr\rhere"'],
    ['=HYPERLINK("http://evil")', `"'=HYPERLINK(""http://evil"")"`],
    ['+31 20', "'+31 20"],
    ['-1', "'-1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    ['=1,2', `"'=1,2"`],
    ['a=b', 'a=b'],
    ['', ''],
  ])('%j -> %j', (input, expected) => {
    expect(csvCell(input)).toBe(expected);
  });

  it('writes null as an empty cell and numbers as digits', () => {
    expect(csvCell(null)).toBe('');
    expect(csvCell(42)).toBe('42');
  });
});

describe('auditCsv', () => {
  it('has one header row and one row per event with every hashed field', () => {
    const text = auditCsv([
      {
        seq: 7,
        id: 'ev7',
        occurredAt: '2026-01-02T03:04:05.006Z',
        action: 'auth.login',
        actorId: 'u1',
        actorRole: 'admin',
        targetType: 'user',
        targetId: 'u1',
        ip: '127.0.0.1',
        userAgent: 'Mozilla/5.0 (X11; "Linux")',
        result: 'failure',
        details: '{"attempts":3,"reason":"password"}',
        encoding: 2,
        prevHash: 'a'.repeat(64),
        hash: 'b'.repeat(64),
        inclusionPath: ['c'.repeat(64), 'd'.repeat(64)],
      },
      {
        seq: 8,
        id: 'ev8',
        occurredAt: '2026-01-02T03:04:06.000Z',
        action: 'document.downloaded',
        actorId: null,
        actorRole: null,
        targetType: null,
        targetId: null,
        ip: null,
        userAgent: '=cmd|"/c calc"!A1',
        result: null,
        details: '{}',
        encoding: 1,
        prevHash: 'b'.repeat(64),
        hash: 'e'.repeat(64),
        inclusionPath: [],
      },
    ]);
    expect(text).toBe(
      'seq,id,occurredAt,action,actorId,actorRole,targetType,targetId,ip,userAgent,result,details,encoding,prevHash,hash,inclusionPath\r\n' +
        `7,ev7,2026-01-02T03:04:05.006Z,auth.login,u1,admin,user,u1,127.0.0.1,"Mozilla/5.0 (X11; ""Linux"")",failure,"{""attempts"":3,""reason"":""password""}",2,${'a'.repeat(64)},${'b'.repeat(64)},${'c'.repeat(64)} ${'d'.repeat(64)}\r\n` +
        `8,ev8,2026-01-02T03:04:06.000Z,document.downloaded,,,,,,"'=cmd|""/c calc""!A1",,{},1,${'b'.repeat(64)},${'e'.repeat(64)},\r\n`,
    );
  });
});
