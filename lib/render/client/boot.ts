/**
 * The browser half of islands: finds every `<jw-island>` marker the server
 * rendered, loads that island's bundle and hydrates it with its props.
 */
import { h, hydrate } from "preact";

async function boot(): Promise<void> {
  const markers = document.querySelectorAll<HTMLElement>("jw-island[data-island]");
  await Promise.all(Array.from(markers, async (marker) => {
    const { island, src, props } = marker.dataset;
    try {
      const module = await import(src!);
      hydrate(h(module.default, JSON.parse(props ?? "{}")), marker);
      marker.dataset.hydrated = "true";
    } catch (error) {
      console.error(`Jobwatch: island ${island} failed to start`, error);
    }
  }));
}

boot();
