import { echoSuite } from './echo-suite.js';

// 32 clients against 8 children: most clients wait for a free child.
echoSuite({ server: { mode: 'fork', maxChildren: 8 }, concurrentClients: 32 });
