import type { FlatEvent } from '../flatten.js';
import type { SigmaRule } from './rule.js';

/** Field renaming applied to an event before a rule reads it. */
export type FieldMapping = 'security-process-creation';

/** One Windows channel (lowercase) a rule applies to, limited to some event ids or to all (`undefined`). */
export interface ChannelTarget {
  channel: string;
  eventIds: number[] | undefined;
  mapping: FieldMapping | undefined;
}

/** How a rule's logsource resolves on Windows. */
export type LogsourceResolution =
  | { type: 'channels'; targets: ChannelTarget[] }
  | { type: 'all-windows' }
  | { type: 'unsupported'; reason: string };

const sysmon = 'microsoft-windows-sysmon/operational';
const powershell = ['microsoft-windows-powershell/operational', 'powershellcore/operational'];
const powershellClassic = 'windows powershell';
/** The Kernel-File ETW provider's channel, where file_access and file_rename rules expect their events. */
const kernelFile = 'microsoft-windows-kernel-file/analytic';

/** Sigma Windows service names to event log channels (as pySigma's Windows pipelines name them). */
const serviceChannels: Record<string, string[]> = {
  security: ['Security'],
  system: ['System'],
  application: ['Application'],
  sysmon: ['Microsoft-Windows-Sysmon/Operational'],
  powershell: ['Microsoft-Windows-PowerShell/Operational', 'PowerShellCore/Operational'],
  'powershell-classic': ['Windows PowerShell'],
  taskscheduler: ['Microsoft-Windows-TaskScheduler/Operational'],
  wmi: ['Microsoft-Windows-WMI-Activity/Operational'],
  windefend: ['Microsoft-Windows-Windows Defender/Operational'],
  'codeintegrity-operational': ['Microsoft-Windows-CodeIntegrity/Operational'],
  'appxdeployment-server': ['Microsoft-Windows-AppXDeploymentServer/Operational'],
  'appxpackaging-om': ['Microsoft-Windows-AppxPackaging/Operational'],
  'appmodel-runtime': ['Microsoft-Windows-AppModel-Runtime/Admin'],
  'firewall-as': ['Microsoft-Windows-Windows Firewall With Advanced Security/Firewall'],
  'msexchange-management': ['MSExchange Management'],
  'bits-client': ['Microsoft-Windows-Bits-Client/Operational'],
  'dns-client': ['Microsoft-Windows-DNS Client Events/Operational'],
  'dns-server': ['DNS Server'],
  'dns-server-analytic': ['Microsoft-Windows-DNS-Server/Analytical'],
  'iis-configuration': ['Microsoft-IIS-Configuration/Operational'],
  ntlm: ['Microsoft-Windows-NTLM/Operational'],
  'security-mitigations': [
    'Microsoft-Windows-Security-Mitigations/Kernel Mode',
    'Microsoft-Windows-Security-Mitigations/User Mode',
  ],
  applocker: [
    'Microsoft-Windows-AppLocker/MSI and Script',
    'Microsoft-Windows-AppLocker/EXE and DLL',
    'Microsoft-Windows-AppLocker/Packaged app-Deployment',
    'Microsoft-Windows-AppLocker/Packaged app-Execution',
  ],
  'terminalservices-localsessionmanager': [
    'Microsoft-Windows-TerminalServices-LocalSessionManager/Operational',
  ],
  'smbserver-connectivity': ['Microsoft-Windows-SMBServer/Connectivity'],
  'smbclient-security': ['Microsoft-Windows-SmbClient/Security'],
  'smbclient-connectivity': ['Microsoft-Windows-SmbClient/Connectivity'],
  'shell-core': ['Microsoft-Windows-Shell-Core/Operational'],
  openssh: ['OpenSSH/Operational'],
  'microsoft-servicebus-client': ['Microsoft-ServiceBus-Client'],
  'lsa-server': ['Microsoft-Windows-LSA/Operational'],
  ldap: ['Microsoft-Windows-LDAP-Client/Debug'],
  ldap_debug: ['Microsoft-Windows-LDAP-Client/Debug'],
  'driver-framework': ['Microsoft-Windows-DriverFrameworks-UserMode/Operational'],
  'diagnosis-scripted': ['Microsoft-Windows-Diagnosis-Scripted/Operational'],
  'certificateservicesclient-lifecycle-system': [
    'Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational',
  ],
  capi2: ['Microsoft-Windows-CAPI2/Operational'],
  'printservice-admin': ['Microsoft-Windows-PrintService/Admin'],
  'printservice-operational': ['Microsoft-Windows-PrintService/Operational'],
  dhcp: ['Microsoft-Windows-DHCP-Server/Operational'],
  bitlocker: ['Microsoft-Windows-BitLocker/BitLocker Management'],
  vhdmp: ['Microsoft-Windows-VHDMP/Operational'],
  'kernel-shimengine': ['Microsoft-Windows-Kernel-ShimEngine/Operational'],
  'hyper-v-worker': ['Microsoft-Windows-Hyper-V-Worker'],
};

function sysmonTarget(...eventIds: number[]): ChannelTarget[] {
  return [{ channel: sysmon, eventIds, mapping: undefined }];
}

/** Sigma Windows categories to the channels and event ids that carry them (Sysmon, PowerShell, Security 4688, Kernel-File). */
const categoryTargets: Record<string, ChannelTarget[]> = {
  process_creation: [
    { channel: sysmon, eventIds: [1], mapping: undefined },
    { channel: 'security', eventIds: [4688], mapping: 'security-process-creation' },
  ],
  file_change: sysmonTarget(2),
  network_connection: sysmonTarget(3),
  sysmon_status: sysmonTarget(4, 16),
  process_termination: sysmonTarget(5),
  driver_load: sysmonTarget(6),
  image_load: sysmonTarget(7),
  create_remote_thread: sysmonTarget(8),
  raw_access_thread: sysmonTarget(9),
  process_access: sysmonTarget(10),
  file_event: sysmonTarget(11),
  registry_add: sysmonTarget(12),
  registry_delete: sysmonTarget(12),
  registry_set: sysmonTarget(13),
  registry_rename: sysmonTarget(14),
  registry_event: sysmonTarget(12, 13, 14),
  create_stream_hash: sysmonTarget(15),
  pipe_created: sysmonTarget(17, 18),
  wmi_event: sysmonTarget(19, 20, 21),
  dns_query: sysmonTarget(22),
  file_delete: sysmonTarget(23, 26),
  clipboard_capture: sysmonTarget(24),
  process_tampering: sysmonTarget(25),
  file_delete_detected: sysmonTarget(26),
  file_block_executable: sysmonTarget(27),
  file_block_shredding: sysmonTarget(28),
  file_executable_detected: sysmonTarget(29),
  sysmon_error: sysmonTarget(255),
  // Kernel-File ETW (the rules' stated requirement): 12 Create (a file opened), 19 Rename, 27 RenamePath.
  file_access: [{ channel: kernelFile, eventIds: [12], mapping: undefined }],
  file_rename: [{ channel: kernelFile, eventIds: [19, 27], mapping: undefined }],
  ps_script: powershell.map((channel) => ({ channel, eventIds: [4104], mapping: undefined })),
  ps_module: powershell.map((channel) => ({ channel, eventIds: [4103], mapping: undefined })),
  ps_classic_start: [{ channel: powershellClassic, eventIds: [400], mapping: undefined }],
  ps_classic_provider_start: [{ channel: powershellClassic, eventIds: [600], mapping: undefined }],
  ps_classic_script: [{ channel: powershellClassic, eventIds: [800], mapping: undefined }],
};

/** Resolves a rule's logsource to Windows channels and event ids. */
export function resolveLogsource(logsource: SigmaRule['logsource']): LogsourceResolution {
  const product = logsource.product?.toLowerCase();
  const { category, service } = logsource;
  if (product !== undefined && product !== 'windows')
    return { type: 'unsupported', reason: `product ${product} is not mapped (Windows only)` };
  if (product === undefined && category === undefined && service === undefined)
    return { type: 'unsupported', reason: 'logsource names no product, category or service' };
  if (product === undefined)
    return {
      type: 'unsupported',
      reason: `logsource without product (${category ?? service}) is not mapped to Windows`,
    };
  const serviceList = service === undefined ? undefined : serviceChannels[service.trim().toLowerCase()];
  if (service !== undefined && !serviceList)
    return { type: 'unsupported', reason: `Windows service ${service} has no channel mapping` };
  const services = serviceList?.map((channel) => channel.toLowerCase());
  if (category !== undefined) {
    const targets = categoryTargets[category.trim().toLowerCase()];
    if (!targets) return { type: 'unsupported', reason: `Windows category ${category} has no event mapping` };
    const narrowed = services ? targets.filter((target) => services.includes(target.channel)) : targets;
    if (narrowed.length === 0)
      return { type: 'unsupported', reason: `category ${category} is not carried by service ${service}` };
    return { type: 'channels', targets: narrowed };
  }
  if (services)
    return {
      type: 'channels',
      targets: services.map((channel) => ({ channel, eventIds: undefined, mapping: undefined })),
    };
  return { type: 'all-windows' };
}

const integrityLevels: Record<string, string> = {
  'S-1-16-4096': 'Low',
  'S-1-16-8192': 'Medium',
  'S-1-16-8448': 'Medium',
  'S-1-16-12288': 'High',
  'S-1-16-16384': 'System',
};

/** Security 4688 fields renamed to the Sysmon process_creation names rules use; existing fields win. */
function securityProcessCreation(event: FlatEvent): FlatEvent {
  const mapped: FlatEvent = { ...event };
  const set = (name: string, value: unknown) => {
    if (mapped[name] === undefined && value !== undefined && value !== null) mapped[name] = value;
  };
  set('Image', event.NewProcessName);
  set('ParentImage', event.ParentProcessName);
  set('ParentProcessId', event.ProcessId);
  mapped.ProcessId = event.NewProcessId ?? mapped.ProcessId;
  set('LogonId', event.SubjectLogonId);
  const label = typeof event.MandatoryLabel === 'string' ? integrityLevels[event.MandatoryLabel] : undefined;
  set('IntegrityLevel', label);
  if (typeof event.SubjectUserName === 'string')
    set(
      'User',
      typeof event.SubjectDomainName === 'string'
        ? `${event.SubjectDomainName}\\${event.SubjectUserName}`
        : event.SubjectUserName,
    );
  return mapped;
}

/** Applies a field mapping to an event. */
export function applyMapping(mapping: FieldMapping, event: FlatEvent): FlatEvent {
  switch (mapping) {
    case 'security-process-creation':
      return securityProcessCreation(event);
  }
}
