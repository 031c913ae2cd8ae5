/**
 * `paints-undo doctor`: what this machine offers the model backends (GPU, onnxruntime execution
 * providers, CUDA libraries, model files) and what to do about anything missing.
 */
import type { Command } from 'commander';
import { Reporter } from '../reporter.js';

interface DoctorFlags {
  readonly json?: boolean;
  readonly models?: string;
}

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('check the GPU, onnxruntime providers and model files, and say what to do about anything missing')
    .option('--models <dir>', 'models folder (default: $PAINTS_UNDO_MODELS, else the per-user data folder)')
    .option('--json', 'print one JSON object on stdout')
    .action(async (flags: DoctorFlags) => {
      const { runDoctor, formatDoctor } = await import('../../../../models/src/doctor.js');
      const report = await runDoctor(flags.models);
      new Reporter({ json: flags.json === true }).done({ command: 'doctor', report }, formatDoctor(report));
    });
}
