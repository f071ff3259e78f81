export { KproxyError, isKproxyError } from './kproxy-error.ts'
