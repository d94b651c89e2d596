import type { Prompter } from '../core/ports.js';
import { SecretsError } from '../core/errors.js';

/** Ctrl+C in a prompt is a cancel, exit 3 with nothing changed — never a silent exit 0. */
function cancelled(error: unknown): never {
  if (error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError')) {
    throw new SecretsError('cancelled', 'cancelled at the prompt; nothing was changed');
  }
  throw error;
}

/** @inquirer/prompts, loaded only when a prompt is actually shown. */
export const terminalPrompter: Prompter = {
  async password(message) {
    const { password } = await import('@inquirer/prompts');
    return password({ message, mask: false }).catch(cancelled);
  },
  async confirm(message, defaultValue = false) {
    const { confirm } = await import('@inquirer/prompts');
    return confirm({ message, default: defaultValue }).catch(cancelled);
  },
  async input(message, defaultValue) {
    const { input } = await import('@inquirer/prompts');
    return input({ message, ...(defaultValue !== undefined ? { default: defaultValue } : {}) }).catch(cancelled);
  },
  async checkbox(message, choices) {
    const { checkbox } = await import('@inquirer/prompts');
    return checkbox({ message, choices, pageSize: 15 }).catch(cancelled);
  },
};
