/**
 * The lab event store's tables. `events` holds one row per normalised event (ECS-style columns,
 * lower-cased lookup keys beside the values as recorded, and its provenance); the flattened raw record
 * lives outside DuckDB, in an append-only file per loaded source (see raw.ts), and `events` keeps its
 * byte range. `files` records each loaded source by content hash so a second load adds nothing.
 * `command_lines` holds each distinct lower-cased process command line once, so a substring search
 * scans those rather than every event's. `command_events` repeats the rows of `events` that have a
 * command line (process creations, a small share of all events): a command-line search reads its page
 * from there, as matches scattered over 10M events cost a random read of every column each (seconds).
 */

/** Column names and DuckDB types of `events`, in appender order. */
export const eventColumns = [
  ['seq', 'BIGINT NOT NULL'],
  ['id', 'VARCHAR NOT NULL'],
  ['file_id', 'INTEGER NOT NULL'],
  ['line', 'INTEGER NOT NULL'],
  ['entry', 'VARCHAR NOT NULL'],
  ['ts', 'TIMESTAMP NOT NULL'],
  ['host', 'VARCHAR NOT NULL'],
  ['host_key', 'VARCHAR NOT NULL'],
  ['user_name', 'VARCHAR'],
  ['user_key', 'VARCHAR'],
  ['event_code', 'INTEGER NOT NULL'],
  ['channel', 'VARCHAR NOT NULL'],
  ['action', 'VARCHAR NOT NULL'],
  ['process_guid', 'VARCHAR'],
  ['process_key', 'VARCHAR'],
  ['process_pid', 'BIGINT'],
  ['process_image', 'VARCHAR'],
  ['process_command_line', 'VARCHAR'],
  ['command_id', 'INTEGER'],
  ['parent_guid', 'VARCHAR'],
  ['parent_key', 'VARCHAR'],
  ['parent_pid', 'BIGINT'],
  ['parent_image', 'VARCHAR'],
  ['parent_command_line', 'VARCHAR'],
  ['network_protocol', 'VARCHAR'],
  ['source_ip', 'VARCHAR'],
  ['source_port', 'INTEGER'],
  ['destination_ip', 'VARCHAR'],
  ['destination_port', 'INTEGER'],
  ['destination_hostname', 'VARCHAR'],
  ['dns_query', 'VARCHAR'],
  ['dns_answers', 'VARCHAR'],
  ['file_path', 'VARCHAR'],
  ['registry_key', 'VARCHAR'],
  ['registry_value', 'VARCHAR'],
  ['logon_type', 'INTEGER'],
  ['logon_source_ip', 'VARCHAR'],
  ['target_guid', 'VARCHAR'],
  ['target_key', 'VARCHAR'],
  ['target_pid', 'BIGINT'],
  ['target_image', 'VARCHAR'],
  ['granted_access', 'VARCHAR'],
  ['image_loaded', 'VARCHAR'],
  ['raw_offset', 'BIGINT NOT NULL'],
  ['raw_length', 'INTEGER NOT NULL'],
] as const;

export type EventColumn = (typeof eventColumns)[number][0];

/** Longest CSV line of one event's columns the bulk insert accepts (DuckDB's JSON reader default). */
export const maxColumnsLineBytes = 16 * 1024 * 1024;

/** Bumped when the tables change shape; a store of another version is refused, not migrated. */
export const storeSchemaVersion = 4;

export const createTablesSql = `
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS files (
  file_id INTEGER PRIMARY KEY,
  sha256 VARCHAR NOT NULL UNIQUE,
  path VARCHAR NOT NULL,
  stem VARCHAR NOT NULL UNIQUE,
  events BIGINT NOT NULL,
  errors INTEGER NOT NULL,
  loaded_at TIMESTAMP NOT NULL,
  raw_file VARCHAR NOT NULL,
  -- The file's events have seq seq_base + 1, seq_base + 2, …: the numbers its raw file's lines start with.
  seq_base BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS command_lines (command_id INTEGER NOT NULL, command_lower VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS events (
  ${eventColumns.map(([name, type]) => `${name} ${type}`).join(',\n  ')}
);
CREATE TABLE IF NOT EXISTS command_events (
  ${eventColumns.map(([name, type]) => `${name} ${type}`).join(',\n  ')}
);
CREATE TABLE IF NOT EXISTS processes (
  seq BIGINT NOT NULL,
  id VARCHAR NOT NULL,
  ts TIMESTAMP NOT NULL,
  host VARCHAR NOT NULL,
  host_key VARCHAR NOT NULL,
  user_name VARCHAR,
  process_key VARCHAR NOT NULL,
  process_guid VARCHAR NOT NULL,
  process_pid BIGINT NOT NULL,
  process_image VARCHAR NOT NULL,
  process_command_line VARCHAR NOT NULL,
  parent_key VARCHAR,
  parent_guid VARCHAR
);
INSERT OR IGNORE INTO meta VALUES ('schema_version', '${storeSchemaVersion}');
`;

/**
 * Links Security 4688 processes (keys from `auditProcessGuid`) that have no parent yet to the latest
 * creation of their creator's id on the same host at or before their own (an ASOF join; ids are
 * reused), in `processes`, `events` and `command_events` alike. Runs after every load, so a parent
 * loaded later still links.
 */
export const linkAuditParentsSql = `
CREATE OR REPLACE TEMP TABLE audit_parents AS
SELECT child.seq, parent.process_key AS parent_key, parent.process_guid AS parent_guid
FROM (
  SELECT p.seq, p.host_key, p.ts, p.process_key, e.parent_pid
  FROM processes p JOIN events e ON e.seq = p.seq
  WHERE p.parent_key IS NULL AND p.process_key LIKE '4688-%' AND e.parent_pid > 0
) child
ASOF JOIN (SELECT host_key, process_pid, ts, process_key, process_guid FROM processes WHERE process_key LIKE '4688-%') parent
  ON child.host_key = parent.host_key AND child.parent_pid = parent.process_pid AND child.ts >= parent.ts
WHERE parent.process_key <> child.process_key;
UPDATE processes SET parent_key = a.parent_key, parent_guid = a.parent_guid FROM audit_parents a WHERE processes.seq = a.seq;
UPDATE events SET parent_key = a.parent_key, parent_guid = a.parent_guid FROM audit_parents a WHERE events.seq = a.seq;
UPDATE command_events SET parent_key = a.parent_key, parent_guid = a.parent_guid FROM audit_parents a
  WHERE command_events.seq = a.seq;
DROP TABLE audit_parents;
`;

/**
 * ART indexes only for GUID point lookups (a process's events, a tree walk). Host and time filters
 * rely on DuckDB's per-row-group min/max zone maps instead (events arrive file by file, roughly in
 * time order, so a time window prunes most row groups), and substring filters on column scans;
 * bench/lab.ts measures both over 10M events.
 */
export const createIndexesSql = `
CREATE INDEX IF NOT EXISTS events_process_key ON events (process_key);
CREATE INDEX IF NOT EXISTS events_parent_key ON events (parent_key);
CREATE INDEX IF NOT EXISTS processes_key ON processes (process_key);
CREATE INDEX IF NOT EXISTS processes_parent_key ON processes (parent_key);
`;

/**
 * The rows of a staged CSV file of `eventLine`s (staging.ts: `ts` as epoch milliseconds, `seq` and
 * `command_id` numbered within the source), every string quoted and NULL an unquoted `\\N`. Parameter
 * $1: the file. The buffer is set: DuckDB's default, 16 times the line limit (256 MB here), made each
 * read cost about 5x the CPU (measured on 60k Security-Datasets rows: 409 ms against 87 ms; JSON lines
 * took 220 ms).
 */
const stagedEventsSql = `read_csv($1, header = false, auto_detect = false, delim = ',', quote = '"', escape = '"',
  nullstr = '\\N', allow_quoted_nulls = false, new_line = '\\n', max_line_size = ${maxColumnsLineBytes},
  buffer_size = ${2 * maxColumnsLineBytes},
  columns = {${eventColumns
    .map(([name, type]) => `${name}: '${name === 'ts' ? 'BIGINT' : type.replace(' NOT NULL', '')}'`)
    .join(', ')}})`;

/** The columns of `events` from `stagedEventsSql`, `seq` shifted by the store's base ($2). */
const stagedSelect = eventColumns
  .map(([name]) => {
    if (name === 'ts') return 'epoch_ms(ts)';
    if (name === 'seq') return 'seq + $2::BIGINT';
    return name;
  })
  .join(', ');

/** Inserts one staged source's events. Parameters: its columns file, the seq base. */
export const bulkInsertSql = `INSERT INTO events SELECT ${stagedSelect}
FROM ${stagedEventsSql}`;

/**
 * Copies the process starts among one file's staged rows (`stagedEventsSql`) into `processes`, the
 * lineage table. Parameters: the staged file, the seq base.
 */
export const copyProcessesSql = `
INSERT INTO processes
SELECT seq + $2::BIGINT, id, epoch_ms(ts), host, host_key, user_name, process_key, process_guid, coalesce(process_pid, 0),
  coalesce(process_image, ''), coalesce(process_command_line, ''), parent_key, parent_guid
FROM ${stagedEventsSql} WHERE action = 'process_start' AND process_key IS NOT NULL`;

/**
 * Copies the events with a command line among one file's staged rows into `command_events`. Parameters:
 * the staged file, the seq base.
 */
export const copyCommandEventsSql = `INSERT INTO command_events SELECT ${stagedSelect}
FROM ${stagedEventsSql} WHERE command_id IS NOT NULL`;

/**
 * Inserts the command lines first seen in one source. Parameters: the id before the first, their
 * lower-cased texts (ids follow in order).
 */
export const insertCommandLinesSql = `INSERT INTO command_lines
SELECT CAST($1::INTEGER + i AS INTEGER), ($2::VARCHAR[])[i] FROM range(1, len($2::VARCHAR[]) + 1) AS t(i)`;
