/** The real backend as the cli assembles it: the ipvlan engine as the data plane's switch. */

const here = import.meta.url;

/** URL of the ipvlan engine adapter, for DataPlane.start({ switchModule }); the Worker loads it. */
export const IPVLAN_SWITCH_MODULE = new URL(`./ipvlan-switch${here.endsWith(".ts") ? ".ts" : ".js"}`, here)
  .href;
