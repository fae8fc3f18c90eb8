// The cookie jar keeps one string per cookie (`name=value`): the header of a one-cookie jar is
// that string, and nothing it keeps holds the Set-Cookie line it came from.
import test from 'ava'
import { CookieJar } from '../engine/context/cookie-jar.js'

test('one cookie: the header is the jar\'s own string; more: joined; expired and emptied ones leave', t => {
  const jar = new CookieJar()
  t.is(jar.header, undefined)
  jar.set('sid=0123456789abcdef0123456789abcdef; HttpOnly; Path=/')
  t.is(jar.header, 'sid=0123456789abcdef0123456789abcdef')
  t.is(jar.header, jar.header, 'built once per change')
  t.is(jar.get('sid'), '0123456789abcdef0123456789abcdef')
  jar.set('theme=dark; Path=/')
  t.is(jar.header, 'sid=0123456789abcdef0123456789abcdef; theme=dark')
  t.is(jar.size, 2)
  jar.set('sid=new-value; Path=/')
  t.is(jar.header, 'sid=new-value; theme=dark', 'a cookie set again keeps its place with the new value')
  jar.set('theme=; Path=/')
  jar.set('sid=x; Max-Age=0')
  t.is(jar.header, undefined)
  t.is(jar.get('sid'), undefined)
  jar.set('lang=fr; Expires=Thu, 01 Jan 1970 00:00:00 GMT')
  t.is(jar.size, 0, 'an expired cookie is not kept')
})
