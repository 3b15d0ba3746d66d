import {
  emptySettings,
  type SettingsField,
  settingsFields,
  type TenantSettings,
} from "./tenant-settings.js";

/**
 * The settings after an update: the fields named in `mask` taken from
 * `patch`, the others kept from `current`; an empty mask takes every field
 * `patch` sets (non-empty), "*" replaces them all.
 */
export function applySettingsUpdate(
  current: TenantSettings,
  patch: TenantSettings,
  mask: readonly SettingsField[] | "*" | "set",
): { settings: TenantSettings; changed: SettingsField[] } {
  const empty = emptySettings();
  const fields =
    mask === "*"
      ? settingsFields
      : mask === "set"
        ? settingsFields.filter((f) => JSON.stringify(patch[f]) !== JSON.stringify(empty[f]))
        : mask;
  const settings = { ...current };
  for (const field of fields) (settings as Record<string, unknown>)[field] = patch[field];
  const changed = settingsFields.filter(
    (f) => JSON.stringify(settings[f]) !== JSON.stringify(current[f]),
  );
  return { settings, changed };
}
