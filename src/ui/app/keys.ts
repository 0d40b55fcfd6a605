/** Admin and operator keys live in this tab's session storage only: never in a URL, gone when the tab closes. */
const OPERATOR = 'navet.operator-key';
const sandboxSlot = (sandbox: string) => `navet.admin-key.${sandbox}`;
const refusedSlot = (sandbox: string) => `navet.admin-key-refused.${sandbox}`;

export const keys = {
  operator: (): string | null => sessionStorage.getItem(OPERATOR),
  setOperator: (key: string) => sessionStorage.setItem(OPERATOR, key),
  forgetOperator: () => sessionStorage.removeItem(OPERATOR),
  admin: (sandbox: string): string | null => sessionStorage.getItem(sandboxSlot(sandbox)),
  setAdmin: (sandbox: string, key: string) => sessionStorage.setItem(sandboxSlot(sandbox), key),
  forgetAdmin: (sandbox: string) => sessionStorage.removeItem(sandboxSlot(sandbox)),
  /** Forgets a key Navet refused, so the page asks again and says why. */
  refused: (sandbox: string) => {
    sessionStorage.removeItem(sandboxSlot(sandbox));
    sessionStorage.setItem(refusedSlot(sandbox), 'yes');
  },
  wasRefused: (sandbox: string): boolean => sessionStorage.getItem(refusedSlot(sandbox)) === 'yes',
  accepted: (sandbox: string) => sessionStorage.removeItem(refusedSlot(sandbox)),
};
