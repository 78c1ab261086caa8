// crm.js - placeholder
