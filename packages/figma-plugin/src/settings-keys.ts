/** Where the settings are kept in Figma's client storage (see settings.ts). */
export const SETTINGS_KEY = 'styleset.settings';
/** Where the first version kept its one token, for the local daemon. */
export const LEGACY_TOKEN_KEY = 'styleset.token';
