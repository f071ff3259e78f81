// The usage lines of the options every admin-API command takes; no imports, so that `kproxy
// --help` and `kproxy top --help` load nothing else.
export const ADMIN_OPTIONS_USAGE = `  --admin [HOST:]PORT    kproxy's admin API (default: $KPROXY_ADMIN or 127.0.0.1:9901;
                         a bare PORT is on 127.0.0.1)
  --token-file FILE      the admin token, when kproxy has one (default: $KPROXY_ADMIN_TOKEN)`
