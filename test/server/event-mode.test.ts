import { echoSuite } from './echo-suite.js';

echoSuite({ server: { mode: 'event' }, concurrentClients: 200 });
