import { useEffect } from "react";

/** Loads at once, then again every `everyMs` while the component is shown. */
export function usePoll(load: () => Promise<void>, everyMs: number): void {
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), everyMs);
    return () => clearInterval(timer);
  }, [load, everyMs]);
}
