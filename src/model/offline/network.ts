import { chainProcessOf, isOfInterest, keyOf, sightings } from './chain.js';
import { isPublicIp } from './indicators.js';
import { lolbins } from './lexicon.js';
import { feature, featureWeights, unique } from './signals.js';
import type { ChainProcess, Feature, FeatureContext } from './types.js';

const webPorts = new Set([80, 443, 8000, 8008, 8080, 8443, 8888]);

export function networkFeatures(context: FeatureContext): Feature[] {
  const { alert, observations } = context;
  const features: Feature[] = [];
  const ofChain = observations.connections
    .map((connection) => ({ connection, node: chainProcessOf(observations, connection.processGuid) }))
    .filter(
      (entry): entry is { connection: (typeof entry)['connection']; node: ChainProcess } =>
        entry.node !== undefined && isOfInterest(entry.node),
    );
  const external = ofChain.filter(({ connection }) => isPublicIp(connection.destinationIp));
  const focal = context.chain.find((node) => node.relation === 'focal');
  const alertExternal =
    alert.destination !== null && isPublicIp(alert.destination) && focal !== undefined && isOfInterest(focal);
  if (external.length > 0 || alertExternal) {
    const destinations = unique([
      ...external.map(
        ({ connection }) =>
          `${connection.destinationHostname ?? connection.destinationIp}:${connection.destinationPort ?? '?'}`,
      ),
      ...(alertExternal ? [alert.destination ?? ''] : []),
    ]);
    const web = external.some(
      ({ connection }) => connection.destinationPort !== null && webPorts.has(connection.destinationPort),
    );
    const claim = `External network connection from ${unique(external.map(({ node }) => node.name)).join(', ') || focal?.name}: ${destinations.slice(0, 4).join(', ')}.`;
    const refs = [...external.map(({ connection }) => connection.ref), ...(alertExternal ? [alert.ref] : [])];
    features.push(
      feature(
        'external-connection',
        featureWeights.externalConnection,
        claim,
        external.map(({ node }) => node),
        [web ? 'T1071.001' : 'T1071'],
        refs,
      ),
    );
  }
  const lolbinTraffic = ofChain.filter(({ node }) => lolbins.has(node.name));
  if (lolbinTraffic.length > 0) {
    const claim = `Network traffic from a signed-binary proxy: ${unique(
      lolbinTraffic.map(
        ({ node, connection }) =>
          `${node.name} → ${connection.destinationIp}:${connection.destinationPort ?? '?'}`,
      ),
    )
      .slice(0, 4)
      .join(', ')}.`;
    features.push(
      feature(
        'lolbin-network',
        featureWeights.lolbinNetwork,
        claim,
        lolbinTraffic.map(({ node }) => node),
        [],
        lolbinTraffic.map(({ connection }) => connection.ref),
      ),
    );
  }
  const seen = sightings(alert, observations);
  const hits = observations.intel.filter((finding) => finding.verdict === 'malicious');
  if (hits.length > 0) {
    const related = hits.map((hit) =>
      seen.find((sighting) => sighting.indicator.value.toLowerCase() === hit.value.toLowerCase()),
    );
    const nodes = related
      .map((sighting) => context.chain.find((node) => keyOf(node) === sighting?.processKey))
      .filter((node): node is ChainProcess => node !== undefined);
    const labels = hits.map(
      (hit) => `${hit.value}${hit.families.length > 0 ? ` (${hit.families.slice(0, 2).join(', ')})` : ''}`,
    );
    const claim = `Threat intel lists ${labels.slice(0, 4).join(', ')} as malicious${hits[0]?.sources[0] ? ` (source: ${hits[0].sources[0]})` : ''}.`;
    features.push(
      feature(
        'intel-hit',
        featureWeights.intelHit,
        claim,
        nodes,
        [],
        [...hits.map((hit) => hit.ref), ...related.flatMap((sighting) => sighting?.refs ?? [])],
      ),
    );
  }
  return features;
}
