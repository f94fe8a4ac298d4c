import { describe, expect, it } from 'vitest'
import { presignUrl, signHeaders, verifySigV4 } from '../../server/storage/sigV4.ts'

// The worked examples of AWS's "Signature Version 4 — examples for Amazon S3" documentation.
const AWS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', region: 'us-east-1' }
const AWS_TIME = new Date(Date.UTC(2013, 4, 24))
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
const lookup = (id: string) => (id === AWS.accessKeyId ? AWS.secretAccessKey : undefined)

function check(method: string, url: string, headers: Record<string, string> = {}, now = AWS_TIME.getTime() + 1000) {
  return verifySigV4({ method, url: new URL(url), headers: new Headers(headers) }, lookup, now)
}

describe('SigV4', () => {
  it('signs the AWS reference GET with a Range header exactly as AWS documents it', () => {
    const h = signHeaders('GET', new URL('https://examplebucket.s3.amazonaws.com/test.txt'), { range: 'bytes=0-9' }, AWS, EMPTY_SHA256, AWS_TIME)
    expect(h.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    )
  })

  it('presigns the AWS reference URL exactly as AWS documents it', () => {
    const url = new URL(presignUrl('GET', new URL('https://examplebucket.s3.amazonaws.com/test.txt'), AWS, 86400, AWS_TIME))
    expect(url.searchParams.get('X-Amz-Signature')).toBe('aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404')
    expect(url.searchParams.get('X-Amz-Credential')).toBe('AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request')
  })

  it('accepts its own header signature, with a session token and an encoded key', () => {
    const url = 'http://127.0.0.1:9/oss/b/dir/a%20file%2B(1).txt'
    const h = signHeaders('PUT', new URL(url), { 'content-length': '5' }, { ...AWS, sessionToken: 'tok' }, undefined, AWS_TIME)
    expect(h['x-amz-security-token']).toBe('tok')
    expect(check('PUT', url, h)).toEqual({ ok: true, accessKeyId: AWS.accessKeyId, payloadHash: 'UNSIGNED-PAYLOAD' })
  })

  it('accepts its own presigned URL until it expires, then answers AccessDenied "Request has expired"', () => {
    const url = presignUrl('PUT', new URL('http://127.0.0.1:9/oss/b/k'), AWS, 60, AWS_TIME)
    expect(check('PUT', url).ok).toBe(true)
    expect(check('PUT', url, {}, AWS_TIME.getTime() + 61_000)).toMatchObject({ ok: false, status: 403, code: 'AccessDenied', message: 'Request has expired' })
  })

  it('rejects a tampered signature, path, method or expiry with SignatureDoesNotMatch', () => {
    const url = presignUrl('GET', new URL('http://127.0.0.1:9/oss/b/k'), AWS, 60, AWS_TIME)
    const denied = { ok: false, status: 403, code: 'SignatureDoesNotMatch' }
    expect(check('GET', url.replace(/X-Amz-Signature=./, (m) => m.slice(0, -1) + (m.endsWith('0') ? '1' : '0')))).toMatchObject(denied)
    expect(check('GET', url.replace('/oss/b/k', '/oss/b/other'))).toMatchObject(denied)
    expect(check('PUT', url)).toMatchObject(denied)
    expect(check('GET', url.replace('X-Amz-Expires=60', 'X-Amz-Expires=6000'))).toMatchObject(denied)
  })

  it('rejects unknown keys, unsigned requests, skewed clocks and missing payload hashes', () => {
    const url = 'http://127.0.0.1:9/oss/b/k'
    const h = signHeaders('GET', new URL(url), {}, AWS, undefined, AWS_TIME)
    expect(check('GET', url, { ...h, authorization: h.authorization!.replace('AKIAIOSFODNN7EXAMPLE', 'AKIDUNKNOWN') })).toMatchObject({ code: 'InvalidAccessKeyId', status: 403 })
    expect(check('GET', url)).toMatchObject({ code: 'AccessDenied', status: 403 })
    expect(check('GET', url, h, AWS_TIME.getTime() + 16 * 60_000)).toMatchObject({ code: 'RequestTimeTooSkewed', status: 403 })
    const { 'x-amz-content-sha256': _, ...noHash } = h
    expect(check('GET', url, noHash)).toMatchObject({ code: 'InvalidRequest', status: 400 })
  })
})
