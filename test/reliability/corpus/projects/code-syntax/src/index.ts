export default {
  async fetch( {
}
