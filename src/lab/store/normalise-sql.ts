/**
 * The normaliser (`normaliseEvent` in ../normalise.ts plus the columns of `eventLine` in rows.ts) as one
 * DuckDB query, so the JSON lines of a loaded source are parsed and normalised by DuckDB's threads
 * rather than by JavaScript. It reads the source's raw file (`<seq>` U+0001 `<record>` lines, raw.ts)
 * and an index of the lines it should take (`seq,raw_offset,raw_length,line,member`), and writes the
 * temp table `staged`.
 *
 * The query covers the common shape exactly and flags the rest: a row is `ok` only when each value it
 * reads has one meaning in both languages (strings, integers of up to 15 digits, ASCII text where case
 * is folded, ISO timestamps that both parse alike). Every other row (invalid JSON, a Winlogbeat or
 * evtx_dump record, a fractional or huge number, non-ASCII text that is lower- or upper-cased, an odd
 * timestamp, no host) is read back from the raw file and normalised again by the JavaScript
 * normaliser, which also words its errors; test/lab/store/normalise-sql.test.ts compares the two paths
 * over real datasets. One known difference: a record naming a key twice reads the first value here
 * and the last in JavaScript (no recorder of the datasets writes duplicate keys).
 */

/** The record keys the normaliser reads, and the keys that mark a record as not flat (reshaped in JS). */
const fields = [
  'EventID',
  'Channel',
  'SourceName',
  'Provider_Name',
  '@timestamp',
  'TimeCreated',
  'UtcTime',
  'EventTime',
  'Hostname',
  'Computer',
  'ComputerName',
  'User',
  'TargetDomainName',
  'TargetUserName',
  'SubjectDomainName',
  'SubjectUserName',
  'Domain',
  'AccountName',
  'ProcessGuid',
  'SourceProcessGUID',
  'Image',
  'SourceImage',
  'ProcessId',
  'SourceProcessId',
  'CommandLine',
  'ParentProcessGuid',
  'ParentImage',
  'ParentProcessId',
  'ParentCommandLine',
  'Protocol',
  'SourceIp',
  'SourcePort',
  'DestinationIp',
  'DestinationPort',
  'DestinationHostname',
  'QueryName',
  'QueryResults',
  'ImageLoaded',
  'TargetFilename',
  'TargetObject',
  'Details',
  'NewProcessId',
  'NewProcessName',
  'ParentProcessName',
  'LogonType',
  'IpAddress',
  'ProcessName',
  'TargetProcessGUID',
  'TargetProcessGuid',
  'TargetProcessId',
  'TargetImage',
  'GrantedAccess',
] as const;

/** Present as objects, these make the record a Winlogbeat or evtx_dump one: flattened in JavaScript. */
const reshapeMarkers = ['winlog', 'event_data', 'Event'] as const;

type Field = (typeof fields)[number];

/** Characters JavaScript's `String.prototype.trim` removes (WhiteSpace and LineTerminator). */
const jsWhitespace =
  ' \t\n\u000b\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff';

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * JavaScript's `trim()`. DuckDB's trim with a character list decodes the list for every row, so text
 * that starts and ends with visible ASCII (nearly all) skips it.
 */
const jsTrim = (x: string) =>
  `CASE WHEN ascii(${x}) BETWEEN 33 AND 126 AND ascii(right(${x}, 1)) BETWEEN 33 AND 126 THEN ${x} ELSE trim(${x}, ${literal(jsWhitespace)}) END`;
/** True when the text holds a character beyond ASCII (case folding may differ between the languages). */
const nonAscii = (x: string) => `coalesce(strlen(${x}) <> length(${x}), false)`;

/**
 * Column of a key's value as DuckDB's JSON reader gives it as VARCHAR: strings unescaped, numbers and
 * booleans as written, objects and arrays as JSON text, NULL when missing or JSON null.
 */
const v = (field: string) => q(field);

/**
 * Matches, in the values joined by U+0001, one that could stand for a JSON value JavaScript reads
 * otherwise than the string: an object or array (`text()` gives null), a number `String(value)` writes
 * differently (fraction, exponent, beyond 15 digits, -0), a boolean (rows.ts's readers drop it).
 * Plain integers and strings read alike in both. One pattern per row keeps the check cheap; it errs
 * towards flagging (a string "1.5" is flagged too).
 */
const ambiguousValue =
  '(^|\\x01)(\\[|\\{\\}|\\{[^\\x01]*"|(true|false|-0|-?[0-9]+(\\.[0-9]+)?[eE][+-]?[0-9]+|-?[0-9]+\\.[0-9]+|-?[0-9]{16,})(\\x01|$))';

/** True when the text surely is neither blank nor `-` after trimming (its first character is visible ASCII). */
const plainStart = (x: string) => `(ascii(${x}) BETWEEN 33 AND 126 AND ascii(${x}) <> 45)`;

/** normalise.ts `text()`: NULL for blanks and `-`. */
const textOf = (x: string) =>
  `CASE WHEN ${x} IS NULL THEN NULL WHEN ${plainStart(x)} THEN ${x} WHEN ${jsTrim(x)} IN ('', '-') THEN NULL ELSE ${x} END`;

/** Column names of the layer that holds each field's `text()` value. */
const t = (field: Field) => q(`t_${field}`);
/** Column names of the raw VARCHAR values kept for rows.ts's own readers (`stringField`, `integerField`). */
const s = (field: Field) => q(`s_${field}`);
const rawKept: Field[] = [
  'TargetProcessGUID',
  'TargetProcessGuid',
  'TargetProcessId',
  'TargetImage',
  'GrantedAccess',
  'ImageLoaded',
];

/**
 * normalise.ts `integer()` of a text value (decimal, or hexadecimal with `0x`); `oddInteger` flags the
 * values JavaScript may read otherwise (more digits than DuckDB's fast path takes). Plain digits skip
 * the trimming and the patterns.
 */
const plainDigits = (x: string) => `regexp_full_match(${x}, '[0-9]{1,15}')`;
const integerOf = (x: string) => `CASE
  WHEN ${x} IS NULL THEN NULL
  WHEN ${plainDigits(x)} THEN CAST(${x} AS BIGINT)
  WHEN regexp_full_match(${jsTrim(x)}, '-?[0-9]{1,15}') THEN CAST(${jsTrim(x)} AS BIGINT)
  WHEN regexp_full_match(${jsTrim(x)}, '0[xX][0-9a-fA-F]{1,13}') THEN CAST('0x' || ${jsTrim(x)}[3:] AS BIGINT)
END`;
const oddInteger = (x: string) =>
  `CASE WHEN ${x} IS NULL OR ${plainDigits(x)} THEN false ELSE NOT regexp_full_match(${jsTrim(x)}, '-?[0-9]{1,15}|0[xX][0-9a-fA-F]{1,13}') AND regexp_full_match(${jsTrim(x)}, '-?[0-9]+|0[xX][0-9a-fA-F]+') END`;

/** rows.ts `stringField()`: numbers as text, strings unless blank (a `-` is kept), else NULL. */
const stringField = (x: string) =>
  `CASE WHEN ${x} IS NULL THEN NULL WHEN ${plainStart(x)} OR ${jsTrim(x)} <> '' THEN ${x} END`;

/** events.ts `bareGuid()`. */
const bareGuid = (x: string) => `lower(regexp_replace(regexp_replace(${jsTrim(x)}, '^\\{', ''), '\\}$', ''))`;

/** An ISO-8601 time both `Date.parse` (after normalise.ts adds `Z`) and DuckDB read the same way. */
const isoTime =
  '[12][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?Z?|[ T]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?)';

/** The ASCII whitespace of JavaScript's `\s` (non-ASCII query results are flagged). */
const space = '[ \\t\\n\\x0B\\f\\r]';

/**
 * Fills the temp table `staged` (schema.ts) from the raw file (parameter 1) and its line index
 * (parameter 2), with `staged_members (member, entry, stem)` naming each line's archive member and id stem.
 */
export function stageFastLinesSql(): string {
  const struct = JSON.stringify(
    Object.fromEntries([...fields, ...reshapeMarkers].map((f) => [f, 'VARCHAR'])),
  );
  const texts = fields.map((f) => `${textOf(v(f))} AS ${t(f)}`).join(',\n    ');
  const odd = [
    'invalid',
    ...reshapeMarkers.map((m) => `${v(m)} IS NOT NULL`),
    `coalesce(regexp_matches(concat_ws(chr(1), ${fields.map(v).join(', ')}), ${literal(ambiguousValue)}), false)`,
  ].join(' OR ');
  const account = (domain: string, name: string) =>
    `CASE WHEN ${name} IS NULL THEN NULL WHEN ${domain} IS NULL THEN ${name} ELSE ${domain} || '\\' || ${name} END`;
  const int = (f: Field) => integerOf(t(f));
  const intFields: Field[] = [
    'EventID',
    'ProcessId',
    'SourceProcessId',
    'ParentProcessId',
    'SourcePort',
    'DestinationPort',
    'NewProcessId',
    'LogonType',
  ];
  return `INSERT INTO staged BY NAME
WITH lines AS (
  SELECT r.seq, i.raw_offset, i.raw_length, i.line, i.member, CASE WHEN json_valid(r.raw) THEN from_json(r.raw, ${literal(struct)}) END AS j
  FROM read_csv(?, auto_detect=false, delim=chr(1), quote='', escape='', header=false, new_line='\\n',
      columns={'seq': 'BIGINT', 'raw': 'VARCHAR'}, max_line_size=67108864, buffer_size=134217728) r
    JOIN read_csv(?, auto_detect=false, delim=',', quote='', escape='', header=false, new_line='\\n',
      columns={'seq': 'BIGINT', 'raw_offset': 'BIGINT', 'raw_length': 'INTEGER', 'line': 'INTEGER', 'member': 'INTEGER'}) i
    USING (seq)
),
valued AS (
  SELECT seq, raw_offset, raw_length, line, member, j IS NULL AS invalid, unnest(j) FROM lines
),
texts AS (
  SELECT seq, raw_offset, raw_length, line, member, (${odd}) AS odd,
    ${texts},
    ${rawKept.map((f) => `${v(f)} AS ${s(f)}`).join(', ')}
  FROM valued
),
base AS (
  SELECT *,
    ${intFields.map((f) => `${int(f)} AS ${q(`i_${f}`)}`).join(',\n    ')},
    ${intFields.map((f) => oddInteger(t(f))).join(' OR ')} AS odd_int,
    coalesce(${t('Channel')}, '') AS channel_text,
    coalesce(${t('SourceName')}, ${t('Provider_Name')}, '') AS source_text,
    lower(coalesce(${t('Channel')}, '')) AS channel_l,
    lower(coalesce(${t('SourceName')}, ${t('Provider_Name')}, '')) AS source_l,
    coalesce(${t('@timestamp')}, ${t('TimeCreated')}, ${t('UtcTime')}, ${t('EventTime')}) AS ts_text,
    ${jsTrim(`coalesce(${t('Hostname')}, ${t('Computer')}, ${t('ComputerName')})`)} AS host
  FROM texts
),
classed AS (
  SELECT *,
    CASE WHEN contains(channel_l, 'sysmon') OR source_l = 'microsoft-windows-sysmon' THEN 'sysmon'
      WHEN channel_l = 'security' OR source_l = 'microsoft-windows-security-auditing' THEN 'security'
      WHEN contains(channel_l, 'powershell') THEN 'powershell' ELSE 'other' END AS family,
    coalesce("i_EventID", 0) AS code,
    CASE WHEN regexp_full_match(ts_text, ${literal(isoTime)})
      THEN TRY_CAST(regexp_replace(replace(ts_text, 'Z', ''), '(\\.[0-9]{3})[0-9]+$', '\\1') AS TIMESTAMP) END AS ts,
    CASE WHEN regexp_full_match(host, '[0-9.]+') OR contains(host, ':') THEN lower(host)
      ELSE upper(split_part(host, '.', 1)) END AS host_key
  FROM base
),
acted AS (
  SELECT *,
    CASE family
      WHEN 'sysmon' THEN CASE code WHEN 1 THEN 'process_start' WHEN 3 THEN 'network_connection'
        WHEN 5 THEN 'process_end' WHEN 7 THEN 'image_load' WHEN 10 THEN 'process_access' WHEN 11 THEN 'file_create'
        WHEN 12 THEN 'registry_set' WHEN 13 THEN 'registry_set' WHEN 14 THEN 'registry_set' WHEN 22 THEN 'dns_query'
        ELSE 'other' END
      WHEN 'security' THEN CASE code WHEN 4624 THEN 'logon' WHEN 4625 THEN 'logon_failed' WHEN 4688 THEN 'process_start'
        ELSE 'other' END
      WHEN 'powershell' THEN CASE code WHEN 4104 THEN 'script_block' ELSE 'other' END
      ELSE 'other' END AS action,
    CASE family WHEN 'sysmon' THEN ${t('User')}
      WHEN 'security' THEN CASE WHEN code IN (4624, 4625) THEN ${account(t('TargetDomainName'), t('TargetUserName'))}
        ELSE ${account(t('SubjectDomainName'), t('SubjectUserName'))} END
      ELSE coalesce(${account(t('Domain'), t('AccountName'))}, ${t('User')}) END AS user_name,
    -- Process: Sysmon's own or source process, Security 4688's new process, 4624/4625's logon process.
    CASE family
      WHEN 'sysmon' THEN coalesce(${t('Image')}, ${t('SourceImage')}) IS NOT NULL OR coalesce(${t('ProcessGuid')}, ${t('SourceProcessGUID')}, '') <> ''
      WHEN 'security' THEN code = 4688 OR (code IN (4624, 4625) AND ${t('ProcessName')} IS NOT NULL)
      ELSE false END AS has_process,
    family = 'sysmon' AND code = 1 AND (${t('ParentProcessGuid')} IS NOT NULL OR ${t('ParentImage')} IS NOT NULL) AS sysmon_parent
  FROM classed
),
shaped AS (
  SELECT *,
    CASE WHEN NOT has_process THEN NULL
      WHEN family = 'sysmon' THEN coalesce(${t('ProcessGuid')}, ${t('SourceProcessGUID')}, '')
      WHEN code = 4688 AND coalesce("i_NewProcessId", 0) > 0
        THEN '{4688-' || host_key || '-0x' || lower(hex(coalesce("i_NewProcessId", 0))) || '-' || epoch_ms(ts) || '}'
      ELSE '' END AS p_guid,
    CASE WHEN NOT has_process THEN NULL
      WHEN family = 'sysmon' THEN coalesce("i_ProcessId", "i_SourceProcessId", 0)
      WHEN code = 4688 THEN coalesce("i_NewProcessId", 0)
      ELSE coalesce("i_ProcessId", 0) END AS process_pid,
    CASE WHEN NOT has_process THEN NULL
      WHEN family = 'sysmon' THEN coalesce(${t('Image')}, ${t('SourceImage')}, '')
      WHEN code = 4688 THEN coalesce(${t('NewProcessName')}, '')
      ELSE ${t('ProcessName')} END AS process_image,
    CASE WHEN NOT has_process THEN NULL
      WHEN family = 'sysmon' OR code = 4688 THEN coalesce(${t('CommandLine')}, '')
      ELSE '' END AS process_command_line,
    CASE WHEN sysmon_parent THEN coalesce(${t('ParentProcessGuid')}, '') END AS pp_guid,
    CASE WHEN sysmon_parent THEN coalesce("i_ParentProcessId", 0)
      WHEN family = 'security' AND code = 4688 THEN coalesce("i_ProcessId", 0) END AS parent_pid,
    CASE WHEN sysmon_parent THEN coalesce(${t('ParentImage')}, '')
      WHEN family = 'security' AND code = 4688 THEN coalesce(${t('ParentProcessName')}, '') END AS parent_image,
    CASE WHEN sysmon_parent THEN coalesce(${t('ParentCommandLine')}, '')
      WHEN family = 'security' AND code = 4688 THEN '' END AS parent_command_line,
    family = 'sysmon' AND code = 3 AS has_network,
    CASE WHEN family = 'sysmon' AND code = 22 THEN ${t('QueryName')} END AS dns_query,
    CASE WHEN family = 'sysmon' THEN CASE WHEN code = 7 THEN ${t('ImageLoaded')} ELSE ${t('TargetFilename')} END END AS file_path,
    CASE WHEN family = 'sysmon' THEN ${t('TargetObject')} END AS registry_key,
    CASE WHEN family = 'security' AND code IN (4624, 4625) THEN coalesce("i_LogonType", 0) END AS logon_type,
    CASE WHEN action = 'process_access' THEN ${stringField(`coalesce(${s('TargetProcessGUID')}, ${s('TargetProcessGuid')})`)} END AS target_guid
  FROM acted
),
normalised AS (
SELECT
  seq, stem || '-' || printf('%04d', line) AS id, line, entry, ts, host, host_key, user_name,
  CASE WHEN user_name IS NOT NULL THEN lower(string_split(user_name, '\\')[-1]) END AS user_key,
  code AS event_code,
  CASE family WHEN 'sysmon' THEN 'Microsoft-Windows-Sysmon/Operational' WHEN 'security' THEN 'Security'
    ELSE coalesce(${t('Channel')}, 'unknown') END AS channel,
  action,
  nullif(p_guid, '') AS process_guid,
  CASE WHEN nullif(p_guid, '') IS NOT NULL THEN ${bareGuid('p_guid')} END AS process_key,
  process_pid, process_image, process_command_line,
  nullif(pp_guid, '') AS parent_guid,
  CASE WHEN nullif(pp_guid, '') IS NOT NULL THEN ${bareGuid('pp_guid')} END AS parent_key,
  parent_pid, parent_image, parent_command_line,
  CASE WHEN has_network THEN coalesce(${t('Protocol')}, 'tcp') END AS network_protocol,
  CASE WHEN has_network THEN coalesce(${t('SourceIp')}, '') END AS source_ip,
  CASE WHEN has_network THEN coalesce("i_SourcePort", 0) END AS source_port,
  CASE WHEN has_network THEN coalesce(${t('DestinationIp')}, '') END AS destination_ip,
  CASE WHEN has_network THEN coalesce("i_DestinationPort", 0) END AS destination_port,
  CASE WHEN has_network THEN ${t('DestinationHostname')} END AS destination_hostname,
  dns_query,
  CASE WHEN dns_query IS NOT NULL THEN CASE WHEN ${t('QueryResults')} IS NULL THEN '[]'
    ELSE CAST(to_json(list_filter(list_transform(string_split(${t('QueryResults')}, ';'),
      x -> regexp_replace(regexp_replace(${jsTrim('x')}, '^type:${space}*[0-9]+${space}+', ''), '^::[fF][fF][fF][fF]:', '')),
      x -> x <> '' AND x <> '-')) AS VARCHAR) END END AS dns_answers,
  file_path, registry_key,
  CASE WHEN registry_key IS NOT NULL THEN ${t('Details')} END AS registry_value,
  logon_type,
  CASE WHEN logon_type IS NOT NULL THEN ${t('IpAddress')} END AS logon_source_ip,
  target_guid,
  CASE WHEN target_guid IS NOT NULL THEN ${bareGuid('target_guid')} END AS target_key,
  CASE WHEN action = 'process_access' THEN CASE WHEN ${jsTrim(s('TargetProcessId'))} = '' THEN 0
    ELSE ${integerOf(s('TargetProcessId'))} END END AS target_pid,
  CASE WHEN action = 'process_access' THEN ${stringField(s('TargetImage'))} END AS target_image,
  CASE WHEN action = 'process_access' THEN ${stringField(s('GrantedAccess'))} END AS granted_access,
  CASE WHEN action = 'image_load' THEN ${stringField(s('ImageLoaded'))} END AS image_loaded,
  raw_offset, raw_length,
  CASE WHEN process_command_line <> '' THEN lower(process_command_line) END AS command_lower,
  member,
  NOT (odd OR odd_int OR ts IS NULL OR host IS NULL
    OR ${nonAscii('host')} OR ${nonAscii('channel_text')} OR ${nonAscii('source_text')} OR ${nonAscii('user_name')}
    OR ${nonAscii('p_guid')} OR ${nonAscii('pp_guid')} OR ${nonAscii('target_guid')} OR ${nonAscii('process_command_line')}
    OR (action = 'process_access' AND ${jsTrim(s('TargetProcessId'))} <> '' AND ${integerOf(s('TargetProcessId'))} IS NULL)
    OR (dns_query IS NOT NULL AND coalesce(regexp_matches(${t('QueryResults')}, '[^ -~]'), false))) AS ok
FROM shaped JOIN staged_members USING (member)
)
SELECT * FROM normalised`;
}
