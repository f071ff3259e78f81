// The panels, in page order. A new feature's panel is one import here.
import './overview.js'
import './flows.js'
import './apis.js'
import './workers.js'
import './tls.js'
import './mesh.js'
import './upstreams.js'
