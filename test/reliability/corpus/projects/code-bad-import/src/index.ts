import { missing } from "./nowhere";
export default {
  fetch() {
    return new Response(missing);
  },
};
