import { bareGuid, shortHost } from '../../lab/events.js';

/** Which process an event is about, for labelling: the actor, not the target. */
export interface ProcessReference {
  host: string;
  guid: string | null;
  pid: number | null;
  ms: number;
}

function pidOf(value: unknown): number | null {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value !== 'string' || value.trim() === '') return null;
  const text = value.trim();
  const number = /^0x[0-9a-f]+$/i.test(text) ? Number.parseInt(text, 16) : Number(text);
  return Number.isInteger(number) && number > 0 ? number : null;
}

function guidOf(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? bareGuid(value) : null;
}

/**
 * The acting process of an event: for process access and remote threads (Sysmon 8, 10) the source
 * process, for a Security 4688 the new process, for PowerShell the executing process, else the
 * event's own ProcessGuid / ProcessId.
 */
export function processReference(event: Record<string, unknown>, time: string): ProcessReference | null {
  const hostText = event.Hostname ?? event.Computer ?? event.ComputerName;
  if (typeof hostText !== 'string' || hostText.trim() === '') return null;
  const code = Number(event.EventID);
  const ms = Date.parse(time);
  const host = shortHost(hostText);
  if (code === 8 || code === 10)
    return {
      host,
      guid: guidOf(event.SourceProcessGuid ?? event.SourceProcessGUID),
      pid: pidOf(event.SourceProcessId),
      ms,
    };
  if (code === 4688) return { host, guid: null, pid: pidOf(event.NewProcessId), ms };
  if (code === 4103 || code === 4104)
    return {
      host,
      guid: null,
      pid: pidOf(event.ExecutionProcessID ?? event.ProcessID ?? event.ProcessId),
      ms,
    };
  const guid = guidOf(event.ProcessGuid);
  const pid = pidOf(event.ProcessId ?? event.ProcessID);
  if (guid === null && pid === null) return null;
  return { host, guid, pid, ms };
}
