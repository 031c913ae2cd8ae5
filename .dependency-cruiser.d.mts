// Types of .dependency-cruiser.mjs, for tests/repo/import-rules.test.ts.
import type { IConfiguration, ICruiseOptions, IForbiddenRuleType } from 'dependency-cruiser';

declare const config: IConfiguration & { options: ICruiseOptions; forbidden: IForbiddenRuleType[] };
export default config;
