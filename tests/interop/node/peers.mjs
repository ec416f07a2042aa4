// Loads the npm peers from the repository's node/ folder (`npm ci --prefix node`): ES modules
// resolve packages next to the importing file only, and these scripts live under tests/.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(new URL('../../../node/package.json', import.meta.url));

export const importPeer = (name) => import(pathToFileURL(require.resolve(name)).href);
