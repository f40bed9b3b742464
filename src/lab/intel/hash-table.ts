/**
 * A string → origin-ids table that keeps no strings: each key is stored as two 32-bit hashes in
 * typed arrays (open addressing). A million trail entries then take about 12 bytes a slot instead
 * of the ~100 bytes of a Map entry and its key; the caller names the matched entry from the probe.
 * Two different keys collide only when both 32-bit hashes agree: about 1 in 2^64 per pair.
 */
export interface HashTable {
  /** Adds `origin` to the key's origins; false when it was already there. */
  add(key: string, origin: number): boolean;
  /** The key's origin ids, or undefined when absent. */
  get(key: string): readonly number[] | undefined;
  readonly size: number;
}

/** Creates an empty table that grows as keys are added. */
export function createHashTable(): HashTable {
  let capacity = 1024;
  let first = new Uint32Array(capacity);
  let second = new Uint32Array(capacity);
  // 0 = empty slot; n > 0 = the single origin n - 1; n < 0 = the origin list overflow[-n - 1].
  let refs = new Int32Array(capacity);
  const overflow: number[][] = [];
  let used = 0;

  function slotOf(h1: number, h2: number): number {
    let slot = h1 & (capacity - 1);
    while (refs[slot] !== 0 && (first[slot] !== h1 || second[slot] !== h2))
      slot = (slot + 1) & (capacity - 1);
    return slot;
  }

  function grow(): void {
    const old = { first, second, refs };
    capacity *= 2;
    first = new Uint32Array(capacity);
    second = new Uint32Array(capacity);
    refs = new Int32Array(capacity);
    for (let index = 0; index < old.refs.length; index += 1) {
      const ref = old.refs[index] ?? 0;
      if (ref === 0) continue;
      const h1 = old.first[index] ?? 0;
      const h2 = old.second[index] ?? 0;
      const slot = slotOf(h1, h2);
      first[slot] = h1;
      second[slot] = h2;
      refs[slot] = ref;
    }
  }

  return {
    get size() {
      return used;
    },

    add(key, origin) {
      if ((used + 1) * 10 > capacity * 7) grow();
      const h1 = fnv1a(key);
      const h2 = murmurish(key);
      const slot = slotOf(h1, h2);
      const ref = refs[slot] ?? 0;
      if (ref === 0) {
        first[slot] = h1;
        second[slot] = h2;
        refs[slot] = origin + 1;
        used += 1;
        return true;
      }
      if (ref > 0) {
        if (ref - 1 === origin) return false;
        refs[slot] = -(overflow.push([ref - 1, origin]) - 1) - 1;
        return true;
      }
      const list = overflow[-ref - 1];
      if (!list || list.includes(origin)) return false;
      list.push(origin);
      return true;
    },

    get(key) {
      const ref = refs[slotOf(fnv1a(key), murmurish(key))] ?? 0;
      if (ref === 0) return undefined;
      return ref > 0 ? [ref - 1] : overflow[-ref - 1];
    },
  };
}

/** FNV-1a over UTF-16 code units. */
function fnv1a(key: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < key.length; index += 1) {
    hash ^= key.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A second, independent 32-bit hash (multiply-rotate per code unit, murmur3 finaliser). */
function murmurish(key: string): number {
  let hash = 0x9747b28c ^ key.length;
  for (let index = 0; index < key.length; index += 1) {
    hash = Math.imul(hash ^ key.charCodeAt(index), 0x5bd1e995);
    hash = (hash << 13) | (hash >>> 19);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
