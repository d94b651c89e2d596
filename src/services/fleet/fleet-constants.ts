/** The name the fleet's fingerprint key is sealed under, beside the secrets' versions (never a secret id: ids start with a letter or digit). */
export const FINGERPRINT_KEY_ID = '__fingerprint-key';
