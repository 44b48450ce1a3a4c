import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";

/**
 * A password field with a show/hide toggle. Without JavaScript it is a plain
 * password input; the toggle appears once the island has hydrated.
 */
export default function PasswordInput(
  { name, id, autocomplete }: { name: string; id: string; autocomplete: string },
) {
  const visible = useSignal(false);
  const hydrated = useSignal(false);
  useEffect(() => {
    hydrated.value = true;
  }, []);
  return (
    <div class="relative">
      <input
        id={id}
        name={name}
        type={visible.value ? "text" : "password"}
        autocomplete={autocomplete}
        required
        class="w-full rounded-lg border border-gray-300 bg-white px-3 py-2 pr-32 text-sm text-gray-900 focus:border-blue-500 focus:outline-none focus:ring-2 focus:ring-blue-200 dark:border-gray-600 dark:bg-gray-800 dark:text-gray-100"
      />
      {hydrated.value && (
        <button
          type="button"
          aria-controls={id}
          aria-pressed={visible.value}
          onClick={() => visible.value = !visible.value}
          class={`absolute inset-y-0 right-0 px-3 text-xs font-medium ${
            visible.value ? "text-blue-600 dark:text-blue-400" : "text-gray-500 dark:text-gray-400"
          } hover:text-gray-900 dark:hover:text-white`}
        >
          {visible.value ? "Hide password" : "Show password"}
        </button>
      )}
    </div>
  );
}
