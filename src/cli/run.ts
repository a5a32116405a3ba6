/**
 * Process entry of the `anywire` binary.
 * @module
 */
import { main } from './main.js';

const status = await main(process.argv.slice(2));
process.exitCode = status;
// Serving ends on stdin EOF; client commands end when their work does. Leave no stray handles.
setImmediate(() => process.exit(status));
