/** The sessionStorage key of the remembered token (this tab only; gone when the tab closes). */
export const TOKEN_STORAGE_KEY = 'confidential-ai.chat-ui.token';

function storage(): Storage | undefined {
  try {
    return globalThis.sessionStorage;
  } catch {
    return undefined;
  }
}

/** The token remembered in this tab, if the user chose to keep it. */
export function rememberedToken(): string | undefined {
  return storage()?.getItem(TOKEN_STORAGE_KEY) ?? undefined;
}

/**
 * Keeps the token in this tab's sessionStorage when `remember` is true, and removes it otherwise. Nothing is ever
 * written to localStorage, cookies or the URL.
 */
export function storeToken(token: string, remember: boolean): void {
  const store = storage();
  if (!store) return;
  if (remember && token !== '') store.setItem(TOKEN_STORAGE_KEY, token);
  else store.removeItem(TOKEN_STORAGE_KEY);
}
