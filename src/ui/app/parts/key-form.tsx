import { useState } from 'preact/hooks';

/** Asks for a key and keeps it in session storage. */
export function KeyForm({ label, onKey }: { label: string; onKey: (key: string) => void }) {
  const [key, setKey] = useState('');
  return (
    <form
      class="card key-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (key.trim()) onKey(key.trim());
      }}
    >
      <h2>{label}</h2>
      <p class="muted">
        Kept in this tab's session storage only, never in an address. Navet printed it at start (or when the sandbox was
        created).
      </p>
      <label>
        Key{' '}
        <input
          type="password"
          autoComplete="off"
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          required
          autoFocus
        />
      </label>
      <button type="submit">Use this key</button>
    </form>
  );
}
