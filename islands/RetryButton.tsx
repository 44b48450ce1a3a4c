import { RetryControl } from "../components/ExecutionDetail.tsx";

/** The Retry control of a failed run's permalink page (the history island has its own). */
export default function RetryButton({ executionId }: { executionId: string }) {
  return <RetryControl executionId={executionId} />;
}
