// A request path as a route: one name for every user's copy of it, so error groups, request
// names and isolation incidents stay bounded however many users and resources a run has.

/**
 * No query, and ids (numbers, uuids, hex, opaque tokens, user-17) as `:id`; segments in `ids`
 * (e.g. the resource ids a user published with `user.own`) too.
 */
export function routeTemplate (path: string, ids?: ReadonlySet<string>): string {
  const bare = path.split(/[?#]/, 1)[0] ?? ''
  return bare.split('/').map(s => ids !== undefined && s !== '' && ids.has(safeDecode(s)) ? ':id' : idSegment(s)).join('/')
}

function safeDecode (s: string): string {
  try { return decodeURIComponent(s) } catch { return s }
}

function idSegment (s: string): string {
  if (s === '' || /^v\d{1,2}$/i.test(s)) return s
  if (/^\d+$/.test(s) || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s)) return ':id'
  if (/^[0-9a-f]{8,}$/i.test(s) && /\d/.test(s)) return ':id'
  if (s.length >= 16 && /\d/.test(s) && /[A-Za-z]/.test(s)) return ':id'
  // a name with a number in it (user-17, item42)
  return /\d/.test(s) ? s.replace(/\d+/g, ':id') : s
}
