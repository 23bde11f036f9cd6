import * as path from 'path';
import { paths } from '../../tools/paths';

/** Present while PostgreSQL was started by the test run's global setup (and must be stopped by its teardown). */
export const POSTGRES_STARTED_BY_TESTS_MARKER = path.join(paths.cache, 'postgres-started-by-tests');
